//! Valid Vietnamese phone number shapes, generated from the `phonenumber` crate's metadata by
//! `OMNITWIN_BLESS=1 cargo test -p omnitwin shape_table_matches_the_library` (which also
//! checks, on every run of the tests, that this table matches the library). Do not edit.

/// Runs `(first, last, lengths)` of five-digit national prefixes `first..=last` whose
/// numbers of `7 + i` digits are valid when bit `i` of `lengths` is set; sorted, disjoint.
pub(super) const VN_VALID_SHAPES: &[(u32, u32, u8)] = &[
    (12010, 12019, 0b1110),
    (12030, 12039, 0b1110),
    (12100, 12139, 0b0100),
    (12280, 12289, 0b1110),
    (16000, 16099, 0b0100),
    (18000, 18009, 0b1110),
    (19000, 19009, 0b1110),
    (19900, 19999, 0b0011),
    (20300, 21699, 0b1000),
    (21800, 22299, 0b1000),
    (22500, 22999, 0b1000),
    (23200, 23999, 0b1000),
    (24200, 24899, 0b1000),
    (25100, 25299, 0b1000),
    (25400, 26399, 0b1000),
    (26900, 27799, 0b1000),
    (28200, 29499, 0b1000),
    (29600, 29799, 0b1000),
    (29900, 29999, 0b1000),
    (30000, 39999, 0b0100),
    (51000, 51999, 0b0100),
    (52200, 52399, 0b0100),
    (52800, 52899, 0b0100),
    (55900, 56999, 0b0100),
    (58000, 59999, 0b0100),
    (67200, 67299, 0b0100),
    (69000, 69999, 0b0011),
    (70000, 70999, 0b0100),
    (76000, 79899, 0b0100),
    (79900, 79999, 0b0111),
    (81000, 88999, 0b0100),
    (89600, 99199, 0b0100),
    (99300, 99999, 0b0100),
];
