//! A synthetic omnichannel data generator with ground truth, producing the hard cases of real
//! retail data: store placeholder phones, shared family tablets, pre-2018 Vietnamese mobile
//! numbers, names with and without diacritics or in swapped order, typos, two emails per person,
//! gmail dot and +tag variants, masked marketplace phones, page-scoped social ids and junk values.
//!
//! Shared by the `generate` example, the integration tests and the benchmarks (included with
//! `#[path]`), so all of them see the same data for the same seed.

#![allow(dead_code)]

use omnitwin::{Channel, Touchpoint};

/// A deterministic random number generator (SplitMix64): the same seed gives the same data on
/// every platform and version.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const FAMILY: [&str; 16] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương",
    "Lý",
];
const MIDDLE: [&str; 12] = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quang", "Thu", "Hoài", "Kim", "Bảo"];
const GIVEN: [&str; 40] = [
    "An", "Anh", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương", "Khánh", "Lan",
    "Linh", "Long", "Mai", "Nam", "Ngân", "Nhung", "Phong", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Thủy", "Trang",
    "Trung", "Tuấn", "Vy", "Yến", "Đạt", "Khoa", "Lộc", "Nhi", "Quyên", "Tú", "Việt",
];
const STREETS: [&str; 10] = [
    "Lê Lợi",
    "Nguyễn Huệ",
    "Trần Hưng Đạo",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Điện Biên Phủ",
    "Cách Mạng Tháng 8",
    "Võ Văn Tần",
    "Pasteur",
    "Nguyễn Trãi",
];
const CITIES: [(&str, &str); 3] =
    [("TP.HCM", "Q.{d}, TP.HCM"), ("Hà Nội", "Q. Ba Đình, HN"), ("Đà Nẵng", "Q. Hải Châu, Đà Nẵng")];
const DOMAINS: [&str; 4] = ["gmail.com", "yahoo.com", "outlook.com.vn", "fpt.vn"];
/// Current Vietnamese mobile prefixes (national number without the trunk 0), with the old
/// 11-digit prefix where the 2018 renumbering made one.
const MOBILE: [(&str, Option<&str>); 10] = [
    ("91", None),
    ("98", None),
    ("90", None),
    ("93", None),
    ("38", Some("168")),
    ("39", Some("169")),
    ("70", Some("120")),
    ("79", Some("121")),
    ("83", Some("123")),
    ("77", Some("122")),
];
/// Each store's own landline, typed by cashiers for customers who decline to give a number.
const STORE_PHONES: [&str; 3] = ["028 3823 4567", "024 3936 1122", "0236 3822 333"];
const STORES: [&str; 3] = ["pos_hcm01", "pos_hn01", "pos_dn01"];
const JUNK_EMAILS: [&str; 3] = ["test@test.com", "noemail@gmail.com", "khongco@yahoo.com"];

/// One synthetic person and their identifiers.
struct Person {
    id: usize,
    name: [&'static str; 3],
    emails: Vec<String>,
    phone: Option<(String, Option<String>)>,
    loyalty: Option<String>,
    web_account: Option<String>,
    devices: Vec<String>,
    cookies: Vec<String>,
    facebook: Option<String>,
    zalo: Option<String>,
    dob: String,
    gender: &'static str,
    street: String,
    city: usize,
}

fn fold_ascii(text: &str) -> String {
    omnitwin::normalize::fold(text).replace(' ', "")
}

fn person(id: usize, rng: &mut Rng, family_device: Option<String>) -> Person {
    let name = [*rng.pick(&FAMILY), *rng.pick(&MIDDLE), *rng.pick(&GIVEN)];
    let base = format!("{}{}", fold_ascii(name[2]), fold_ascii(name[0]));
    let mut emails = Vec::new();
    if rng.chance(0.8) {
        emails.push(format!("{base}{id}@{}", rng.pick(&DOMAINS)));
        if rng.chance(0.25) {
            emails.push(format!("{}.{}{}@gmail.com", fold_ascii(name[0]), fold_ascii(name[2]), id * 7 + 3));
        }
    }
    let phone = rng.chance(0.9).then(|| {
        let (prefix, old) = *rng.pick(&MOBILE);
        let number = format!("{:07}", (id as u64 * 7_919 + 13) % 10_000_000);
        (format!("{prefix}{number}"), old.map(|o| format!("{o}{number}")))
    });
    let mut devices: Vec<String> = (0..1 + rng.below(2)).map(|k| format!("dev-{id:x}-{k}")).collect();
    devices.extend(family_device);
    Person {
        id,
        name,
        emails,
        phone,
        loyalty: rng.chance(0.4).then(|| format!("L{:08}", id * 31 + 7)),
        web_account: rng.chance(0.5).then(|| format!("W{id}")),
        devices,
        cookies: (0..1 + rng.below(3)).map(|k| format!("ck{:x}{k}", id * 131 + k)).collect(),
        facebook: rng.chance(0.5).then(|| format!("facebook:page_omni:{}", 100_000 + id * 17)),
        zalo: rng.chance(0.3).then(|| format!("zalo:oa_omni:z{:x}", id * 29 + 5)),
        dob: format!("{}-{:02}-{:02}", 1960 + rng.below(45), 1 + rng.below(12), 1 + rng.below(28)),
        gender: if rng.chance(0.55) { "F" } else { "M" },
        street: format!("{} {}", 1 + rng.below(300), rng.pick(&STREETS)),
        city: rng.below(CITIES.len()),
    }
}

/// A person's name as one touchpoint spells it: usually right, sometimes without diacritics, in
/// Western order, in capitals, with a typo, or just the given name.
fn spelled_name(p: &Person, rng: &mut Rng) -> String {
    let full = p.name.join(" ");
    match rng.below(20) {
        0..=9 => full,
        10..=12 => omnitwin::normalize::fold(&full).split(' ').map(capitalize).collect::<Vec<_>>().join(" "),
        13..=14 => format!("{} {} {}", p.name[2], p.name[0], p.name[1]),
        15 => full.to_uppercase(),
        16..=17 => {
            let mut chars: Vec<char> = full.chars().collect();
            let at = 1 + rng.below(chars.len() - 2);
            if chars[at] != ' ' && chars[at + 1] != ' ' {
                chars.swap(at, at + 1);
            }
            chars.into_iter().collect()
        }
        _ => format!("{} {}", p.name[0], p.name[2]),
    }
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A phone number as one touchpoint writes it.
fn spelled_phone(national: &str, old: Option<&str>, rng: &mut Rng) -> String {
    let digits = match old {
        Some(old) if rng.chance(0.4) => old,
        _ => national,
    };
    let (a, rest) = digits.split_at(digits.len() - 6);
    let (b, c) = rest.split_at(3);
    match rng.below(6) {
        0 => format!("0{digits}"),
        1 => format!("+84 {a} {b} {c}"),
        2 => format!("0{a}.{b}.{c}"),
        3 => format!("84{digits}"),
        4 => format!("(0{a}) {b}{c}"),
        _ => format!("0{a}-{b}-{c}"),
    }
}

/// An email as one touchpoint writes it: case, gmail dots and +tags vary.
fn spelled_email(email: &str, rng: &mut Rng) -> String {
    match rng.below(8) {
        0 => email.to_uppercase(),
        1 => email.replacen('@', "+promo@", 1),
        2 if email.ends_with("@gmail.com") => {
            let (local, domain) = email.split_once('@').unwrap_or((email, ""));
            let mid = local.len() / 2;
            format!("{}.{}@{domain}", &local[..mid], &local[mid..])
        }
        _ => email.to_owned(),
    }
}

/// Generated touchpoints and, for each, the person it belongs to.
pub struct Synthetic {
    pub touchpoints: Vec<Touchpoint>,
    pub person_of: Vec<usize>,
}

/// Generates touchpoints for `people` people (about 4.3 each).
pub fn generate(people: usize, seed: u64) -> Synthetic {
    let mut rng = Rng::new(seed);
    let mut touchpoints = Vec::with_capacity(people * 5);
    let mut person_of = Vec::with_capacity(people * 5);
    let mut pending_family: Option<String> = None;
    for id in 0..people {
        // About 3% of people share a tablet with the next person (a household).
        let family = match pending_family.take() {
            Some(device) => Some(device),
            None if rng.chance(0.03) => {
                let device = format!("tablet-{id:x}");
                pending_family = Some(device.clone());
                Some(device)
            }
            None => None,
        };
        let p = person(id, &mut rng, family);
        let visits = 1 + rng.below(4) + if rng.chance(0.3) { rng.below(6) } else { 0 };
        for v in 0..visits {
            let tp = touchpoint(&p, v, &mut rng);
            touchpoints.push(tp);
            person_of.push(id);
        }
    }
    Synthetic { touchpoints, person_of }
}

fn touchpoint(p: &Person, visit: usize, rng: &mut Rng) -> Touchpoint {
    let day = rng.below(730) as i64;
    let timestamp = 1_672_506_000_000 + day * 86_400_000 + rng.below(86_400) as i64 * 1000;
    let mut tp = Touchpoint::new(format!("tp-{:06}-{visit:02}", p.id));
    tp.timestamp = Some(timestamp);
    let channel = match rng.below(20) {
        0..=4 => Channel::Store,
        5..=9 => Channel::Web,
        10..=11 => Channel::Email,
        12..=13 => Channel::Social,
        14..=16 => Channel::Marketplace,
        17 => Channel::CallCenter,
        _ => Channel::App,
    };
    let phone = |rng: &mut Rng| p.phone.as_ref().map(|(n, old)| spelled_phone(n, old.as_deref(), rng));
    let email = |rng: &mut Rng| (!p.emails.is_empty()).then(|| spelled_email(rng.pick(&p.emails).as_str(), rng));
    match channel {
        Channel::Store => {
            let store = rng.below(STORES.len());
            tp.source = Some(STORES[store].into());
            tp.event_type = Some("purchase".into());
            tp.full_name = Some(spelled_name(p, rng).into());
            tp.phone = if rng.chance(0.15) || p.phone.is_none() {
                Some(STORE_PHONES[store].into())
            } else {
                phone(rng).map(Into::into)
            };
            tp.loyalty_id = p.loyalty.clone().filter(|_| rng.chance(0.7)).map(Into::into);
            tp.amount = Some((50 + rng.below(2000)) as f64 * 1000.0);
            tp.currency = Some("VND".into());
        }
        Channel::Web => {
            tp.source = Some("eshop".into());
            tp.event_type = Some(rng.pick(&["page_view", "add_to_cart", "purchase"]).to_string().into());
            tp.cookie_id = Some(rng.pick(&p.cookies).as_str().into());
            tp.customer_id = p.web_account.clone().filter(|_| rng.chance(0.8)).map(Into::into);
            tp.email = if rng.chance(0.03) {
                Some(rng.pick(&JUNK_EMAILS).to_string().into())
            } else {
                email(rng).map(Into::into)
            };
            if rng.chance(0.3) {
                tp.phone = phone(rng).map(Into::into);
                tp.full_name = Some(spelled_name(p, rng).into());
                tp.address = Some(
                    format!("{}, {}", p.street, CITIES[p.city].1.replace("{d}", &(1 + p.id % 12).to_string())).into(),
                );
                tp.city = Some(CITIES[p.city].0.into());
            }
        }
        Channel::Email => {
            tp.source = Some("esp".into());
            tp.event_type = Some(rng.pick(&["email_open", "email_click"]).to_string().into());
            tp.email = email(rng).map(Into::into);
        }
        Channel::Social => {
            let zalo = p.zalo.is_some() && (p.facebook.is_none() || rng.chance(0.5));
            tp.source = Some(if zalo { "zalo" } else { "facebook" }.into());
            tp.event_type = Some("message".into());
            tp.social_id = if zalo { p.zalo.clone() } else { p.facebook.clone() }.map(Into::into);
            tp.full_name = Some(spelled_name(p, rng).into());
            if rng.chance(0.3) {
                tp.phone = phone(rng).map(Into::into);
            }
        }
        Channel::Marketplace => {
            let shopee = rng.chance(0.6);
            tp.source = Some(if shopee { "shopee" } else { "lazada" }.into());
            tp.event_type = Some("purchase".into());
            tp.full_name = Some(spelled_name(p, rng).into());
            tp.phone = p.phone.as_ref().map(|(n, _)| format!("84******{}", &n[n.len() - 3..]).into());
            tp.customer_id = Some(format!("{}{}", if shopee { "S" } else { "Z" }, p.id * 7 + 1).into());
            tp.address =
                Some(format!("{}, {}", p.street, CITIES[p.city].1.replace("{d}", &(1 + p.id % 12).to_string())).into());
            tp.amount = Some((80 + rng.below(3000)) as f64 * 1000.0);
            tp.currency = Some("VND".into());
        }
        Channel::CallCenter => {
            tp.source = Some("hotline".into());
            tp.event_type = Some("call".into());
            tp.phone = phone(rng).map(Into::into);
            tp.full_name = Some(spelled_name(p, rng).into());
        }
        _ => {
            tp.source = Some("eshop".into());
            tp.event_type = Some(rng.pick(&["login", "add_to_cart", "purchase"]).to_string().into());
            tp.device_id = Some(rng.pick(&p.devices).as_str().into());
            tp.customer_id = p.web_account.clone().map(Into::into);
            if rng.chance(0.5) {
                tp.email = email(rng).map(Into::into);
            }
        }
    }
    tp.channel = Some(channel);
    if rng.chance(0.2) {
        tp.date_of_birth = Some(p.dob.clone().into());
        tp.gender = Some(p.gender.into());
    }
    tp
}

/// Pairwise precision and recall of predicted clusters against the truth.
pub fn pairwise_scores(predicted: &[String], truth: &[usize]) -> (f64, f64, f64) {
    use std::collections::HashMap;
    fn pairs<K>(counts: &HashMap<K, u64>) -> u64 {
        counts.values().map(|n| n * (n - 1) / 2).sum()
    }
    let mut by_pred: HashMap<&str, u64> = HashMap::new();
    let mut by_true: HashMap<usize, u64> = HashMap::new();
    let mut by_both: HashMap<(&str, usize), u64> = HashMap::new();
    for (p, t) in predicted.iter().zip(truth) {
        *by_pred.entry(p.as_str()).or_default() += 1;
        *by_true.entry(*t).or_default() += 1;
        *by_both.entry((p.as_str(), *t)).or_default() += 1;
    }
    let (predicted_pairs, true_pairs, correct) = (pairs(&by_pred), pairs(&by_true), pairs(&by_both));
    let precision = if predicted_pairs == 0 { 1.0 } else { correct as f64 / predicted_pairs as f64 };
    let recall = if true_pairs == 0 { 1.0 } else { correct as f64 / true_pairs as f64 };
    let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
    (precision, recall, f1)
}
