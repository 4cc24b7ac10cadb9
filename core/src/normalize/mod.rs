//! Normalizers: pure functions that turn raw touchpoint values into comparable forms.
//!
//! One file per kind of value. None of them does I/O or allocates more than its output; all of
//! them are safe on any input (they return `None` or an `Invalid` variant, never panic).

mod address;
mod date;
mod email;
mod fold;
mod gender;
mod name;
mod phone;
mod vn_shapes;

pub use address::normalize_address;
pub use date::{
    check_timestamp, normalize_date_of_birth, parse_timestamp, UtcOffset, EARLIEST_TIMESTAMP, LATEST_TIMESTAMP,
};
pub(crate) use date::{parse_date, shorten};
pub(crate) use email::canonical_email;
pub use email::{normalize_email, NormalizedEmail};
pub use fold::fold;
pub use gender::normalize_gender;
pub(crate) use name::name_key;
pub use name::{normalize_name, NormalizedName};
pub use phone::{normalize_phone, NormalizedPhone, PhoneRegion};
