//! Reading a store's write-ahead log before SQLite does, to tell when it would drop commits.
//!
//! SQLite replays the log (`<store>-wal`) up to the first frame whose checksum fails and
//! silently ignores the rest: after a crash that is the torn tail of a write nobody was told
//! had landed, but a byte flipped in the middle of the log drops every later commit. This scan
//! follows the log format (sqlite.org/fileformat2.html, "WAL File Format"): a 32-byte header
//! with a magic number, page size and two salts; frames of a 24-byte header (page number,
//! database size after a commit, the salts, a running checksum) and a page. A frame of the
//! current log (its salts match) that ends a transaction, found after the first frame that
//! fails its checksum, is a commit SQLite will not replay.

/// The running checksum SQLite keeps over the log: pairs of 32-bit words (big- or
/// little-endian, as the magic number says), each added to the other.
fn checksum(data: &[u8], big_endian: bool, mut s0: u32, mut s1: u32) -> (u32, u32) {
    for pair in data.chunks_exact(8) {
        let word = |b: &[u8]| {
            let b: [u8; 4] = b.try_into().unwrap_or([0; 4]);
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        s0 = s0.wrapping_add(word(&pair[..4])).wrapping_add(s1);
        s1 = s1.wrapping_add(word(&pair[4..])).wrapping_add(s0);
    }
    (s0, s1)
}

fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap_or([0; 4]))
}

/// What a scan of the log found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct WalScan {
    /// Commits SQLite replays.
    pub commits: usize,
    /// Commits of the current log after a frame that fails its checksum: SQLite drops them.
    pub lost_commits: usize,
    /// The log's header fails its own checksum (SQLite ignores the whole log).
    pub bad_header: bool,
}

impl WalScan {
    /// Whether SQLite would drop commits of this log.
    pub(crate) fn loses_commits(&self) -> bool {
        self.lost_commits > 0 || self.bad_header
    }
}

/// Scans a log's bytes (empty or short: nothing to replay).
pub(crate) fn scan(log: &[u8]) -> WalScan {
    let mut found = WalScan::default();
    if log.len() < 32 {
        return found;
    }
    let magic = be32(log, 0);
    if magic != 0x377f_0682 && magic != 0x377f_0683 {
        // Not a log SQLite would read; a zeroed header is a log reset, anything else damage.
        found.bad_header = log[..32].iter().any(|&b| b != 0) && log.len() > 32;
        return found;
    }
    let big_endian = magic & 1 == 1;
    let page_size = be32(log, 8) as usize;
    if !(512..=65_536).contains(&page_size) || !page_size.is_power_of_two() {
        found.bad_header = true;
        return found;
    }
    let (salt1, salt2) = (be32(log, 16), be32(log, 20));
    let (mut s0, mut s1) = checksum(&log[..24], big_endian, 0, 0);
    if (s0, s1) != (be32(log, 24), be32(log, 28)) {
        // SQLite ignores the whole log; it holds commits if any frame carries its salts.
        found.bad_header = log.len() > 32;
        return found;
    }
    let frame_size = 24 + page_size;
    let mut failed = false;
    for frame in log[32..].chunks_exact(frame_size) {
        let (header, page) = frame.split_at(24);
        if (be32(header, 8), be32(header, 12)) != (salt1, salt2) {
            if failed {
                continue;
            }
            // Frames of an earlier log: the current one ends here.
            break;
        }
        let commit = be32(header, 4) != 0;
        if failed {
            found.lost_commits += usize::from(commit);
            continue;
        }
        let (h0, h1) = checksum(&header[..8], big_endian, s0, s1);
        let (c0, c1) = checksum(page, big_endian, h0, h1);
        if (c0, c1) != (be32(header, 16), be32(header, 20)) {
            failed = true;
            continue;
        }
        (s0, s1) = (c0, c1);
        found.commits += usize::from(commit);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log of `commits` one-frame transactions, as SQLite writes it (little-endian sums).
    fn log(commits: usize, page_size: usize) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend(0x377f_0682u32.to_be_bytes());
        out.extend(3_007_000u32.to_be_bytes());
        out.extend((page_size as u32).to_be_bytes());
        out.extend(0u32.to_be_bytes());
        out.extend(0x1234_5678u32.to_be_bytes());
        out.extend(0x9abc_def0u32.to_be_bytes());
        let (mut s0, mut s1) = checksum(&out, false, 0, 0);
        out.extend(s0.to_be_bytes());
        out.extend(s1.to_be_bytes());
        for n in 0..commits {
            let mut header = Vec::new();
            header.extend((n as u32 + 1).to_be_bytes());
            header.extend((n as u32 + 1).to_be_bytes());
            header.extend(0x1234_5678u32.to_be_bytes());
            header.extend(0x9abc_def0u32.to_be_bytes());
            let page: Vec<u8> = (0..page_size).map(|i| (i * 7 + n) as u8).collect();
            (s0, s1) = checksum(&header[..8], false, s0, s1);
            (s0, s1) = checksum(&page, false, s0, s1);
            header.extend(s0.to_be_bytes());
            header.extend(s1.to_be_bytes());
            out.extend(header);
            out.extend(page);
        }
        out
    }

    #[test]
    fn a_sound_log_replays_every_commit() {
        let found = scan(&log(5, 1024));
        assert_eq!(found, WalScan { commits: 5, lost_commits: 0, bad_header: false });
    }

    #[test]
    fn a_flipped_byte_in_the_middle_loses_the_commits_after_it() {
        let mut bytes = log(5, 1024);
        let second_page = 32 + (24 + 1024) + 24 + 100;
        bytes[second_page] ^= 0x10;
        let found = scan(&bytes);
        assert_eq!((found.commits, found.lost_commits), (1, 3), "{found:?}");
        assert!(found.loses_commits());
    }

    #[test]
    fn a_torn_last_frame_loses_nothing_acknowledged() {
        let mut bytes = log(5, 1024);
        let cut = bytes.len() - 300;
        bytes.truncate(cut);
        let found = scan(&bytes);
        assert_eq!(found, WalScan { commits: 4, lost_commits: 0, bad_header: false });
        // The last frame written whole but wrong (a crash mid-write): nothing after it.
        let mut bytes = log(5, 1024);
        let last = bytes.len() - 10;
        bytes[last] ^= 1;
        assert!(!scan(&bytes).loses_commits());
    }

    #[test]
    fn a_damaged_header_loses_the_whole_log() {
        let mut bytes = log(3, 1024);
        bytes[17] ^= 1;
        assert!(scan(&bytes).bad_header);
        assert!(!scan(&[]).loses_commits());
        assert!(!scan(&bytes[..32]).loses_commits(), "a header alone holds no commits");
    }
}
