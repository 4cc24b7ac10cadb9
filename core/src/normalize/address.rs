//! Addresses: folded, with the common Vietnamese abbreviations written out.

use super::fold;

/// Normalizes an address for matching: folded (see [`fold`]) and with Vietnamese
/// abbreviations expanded, so `123 Lê Lợi, P.Bến Thành, Q.1, TP.HCM` and
/// `123 Le Loi Phuong Ben Thanh Quan 1 Ho Chi Minh` compare equal. `None` when nothing is left.
///
/// ```
/// use omnitwin::normalize::normalize_address;
/// assert_eq!(
///     normalize_address("123 Lê Lợi, P.Bến Thành, Q.1, TP.HCM").as_deref(),
///     Some("123 le loi phuong ben thanh quan 1 ho chi minh"),
/// );
/// assert_eq!(normalize_address("12 Nguyễn Huệ, Q1, HCM"), normalize_address("12 nguyen hue quan 1 ho chi minh"));
/// ```
pub fn normalize_address(raw: &str) -> Option<String> {
    let folded = fold(raw);
    if folded.is_empty() {
        return None;
    }
    let words: Vec<&str> = folded.split(' ').collect();
    let mut out: Vec<String> = Vec::with_capacity(words.len() + 4);
    let mut i = 0;
    while i < words.len() {
        if let Some((city, used)) = city_at(&words, i) {
            out.push(city.to_owned());
            i += used;
            continue;
        }
        let word = words[i];
        let next = words.get(i + 1).copied();
        let next_is_number = next.is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        match word {
            "q" | "quan" if next.is_some() || word == "quan" => out.push("quan".into()),
            "p" | "phuong" | "f" if next.is_some() => out.push("phuong".into()),
            "tp" => out.push("thanh pho".into()),
            "tx" => out.push("thi xa".into()),
            "tt" => out.push("thi tran".into()),
            "h" if next.is_some() => out.push("huyen".into()),
            "x" if next.is_some() => out.push("xa".into()),
            "d" | "dg" if next.is_some() && !next_is_number => out.push("duong".into()),
            "kp" => out.push("khu pho".into()),
            "hn" => out.push("ha noi".into()),
            _ => out.push(expand_glued(word)),
        }
        i += 1;
    }
    Some(out.join(" "))
}

/// A city spelled out or abbreviated at `words[i..]`: its name and how many words it took.
fn city_at(words: &[&str], i: usize) -> Option<(&'static str, usize)> {
    let rest = &words[i..];
    let starts = |pattern: &[&str]| rest.len() >= pattern.len() && rest[..pattern.len()] == *pattern;
    const HCM: &str = "ho chi minh";
    let patterns: [(&[&str], &str); 10] = [
        (&["thanh", "pho", "ho", "chi", "minh"], HCM),
        (&["tp", "ho", "chi", "minh"], HCM),
        (&["tp", "hcm"], HCM),
        (&["ho", "chi", "minh"], HCM),
        (&["tphcm"], HCM),
        (&["hcmc"], HCM),
        (&["hcm"], HCM),
        (&["sg"], HCM),
        (&["saigon"], HCM),
        (&["sai", "gon"], HCM),
    ];
    patterns.iter().find(|(p, _)| starts(p)).map(|(p, city)| (*city, p.len()))
}

/// `q1` → `quan 1`, `p12` → `phuong 12`, `f7` → `phuong 7`: a district or ward prefix glued to
/// its number.
fn expand_glued(word: &str) -> String {
    let split = word.find(|c: char| c.is_ascii_digit());
    match split {
        Some(at) if at > 0 && word[at..].bytes().all(|b| b.is_ascii_digit()) => {
            let prefix = match &word[..at] {
                "q" => "quan",
                "p" | "f" => "phuong",
                _ => return word.to_owned(),
            };
            format!("{prefix} {}", &word[at..])
        }
        _ => word.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_address;

    fn norm(raw: &str) -> String {
        normalize_address(raw).unwrap_or_default()
    }

    #[test]
    fn district_forms_agree() {
        assert_eq!(norm("Q.1"), "quan 1");
        assert_eq!(norm("Q1"), "quan 1");
        assert_eq!(norm("q. 1"), "quan 1");
        assert_eq!(norm("Quận 1"), "quan 1");
        assert_eq!(norm("Q. Tân Bình"), "quan tan binh");
    }

    #[test]
    fn ward_forms_agree() {
        assert_eq!(norm("P.Bến Nghé"), "phuong ben nghe");
        assert_eq!(norm("P12"), "phuong 12");
        assert_eq!(norm("F.12"), "phuong 12");
        assert_eq!(norm("Phường 12"), "phuong 12");
    }

    #[test]
    fn ho_chi_minh_city_forms_agree() {
        for raw in ["TP.HCM", "TP HCM", "HCM", "TPHCM", "Tp. Hồ Chí Minh", "Thành phố Hồ Chí Minh", "Sài Gòn"]
        {
            assert_eq!(norm(raw), "ho chi minh", "{raw}");
        }
    }

    #[test]
    fn full_address() {
        assert_eq!(
            norm("45/2 Trần Hưng Đạo, P.Cầu Ông Lãnh, Q1, TP.HCM"),
            "45 2 tran hung dao phuong cau ong lanh quan 1 ho chi minh"
        );
        assert_eq!(norm("Số 5 Ngõ 10, H. Gia Lâm, HN"), "so 5 ngo 10 huyen gia lam ha noi");
    }

    #[test]
    fn empty_is_none() {
        assert!(normalize_address(" ,. ").is_none());
    }
}
