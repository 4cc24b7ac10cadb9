//! Assignments (`{ touchpointId, profileId }` per touchpoint) crossing to JavaScript as one
//! text of all their ids and the offsets that cut it, made into objects by a small JavaScript
//! loop: a million of them took 0.6–0.8 s through `JSON.parse` (objects and strings parsed
//! character by character) and take about 0.2 s cut out of one string.

use napi::bindgen_prelude::{Array, Function, ToNapiValue, TypeName, Uint32Array};
use napi::{Env, JsValue};

/// Makes the assignment objects from chunks `[text, offsets]`: assignment `i` of a chunk is
/// `text.slice(offsets[2i], offsets[2i + 1])` (its touchpoint id) and `text.slice(offsets[2i +
/// 1], offsets[2i + 2])` (its profile id); offsets count UTF-16 units, as JavaScript does.
/// Elements are pushed (not written into a preallocated array) so that the array is packed, as
/// `JSON.parse` makes it: iterating it later is faster.
const DECODE: &str = r"(function (chunks) {
  const out = []
  for (const [text, at] of chunks) {
    for (let i = 0; i + 1 < at.length; i += 2) {
      out.push({ touchpointId: text.slice(at[i], at[i + 1]), profileId: text.slice(at[i + 1], at[i + 2]) })
    }
  }
  return out
})";

/// A chunk's text is cut before it reaches this many UTF-16 units (V8 caps a string near 2^29);
/// small in builds with debug assertions (the test suite's), so that tests cross several chunks.
const CHUNK_UNITS: usize = if cfg!(debug_assertions) { 64 } else { 64 << 20 };

/// Assignments ready to cross: written on a worker thread, made into JavaScript objects on the
/// main thread.
pub struct Assignments {
    chunks: Vec<Chunk>,
}

/// Consecutive assignments' ids in one text.
struct Chunk {
    /// The ids, one after the other (touchpoint id, then profile id, per assignment).
    text: String,
    /// Where each id starts in `text`, in UTF-16 units, and the end of the last one.
    offsets: Vec<u32>,
    /// The text's length in UTF-16 units (its length in bytes when it is ASCII).
    units: usize,
}

impl Chunk {
    fn new() -> Chunk {
        Chunk { text: String::new(), offsets: vec![0], units: 0 }
    }

    fn push(&mut self, id: &str) {
        self.text.push_str(id);
        self.units += if id.is_ascii() { id.len() } else { id.encode_utf16().count() };
        // `units` stays under CHUNK_UNITS plus one assignment's ids: within u32.
        self.offsets.push(self.units as u32);
    }
}

impl Assignments {
    /// The core's assignments, in order.
    pub(crate) fn of(assignments: Vec<omnitwin::Assignment>) -> Assignments {
        let mut chunks = Vec::new();
        let mut chunk = Chunk::new();
        for assignment in &assignments {
            if chunk.units >= CHUNK_UNITS {
                chunks.push(std::mem::replace(&mut chunk, Chunk::new()));
            }
            chunk.push(&assignment.touchpoint_id);
            chunk.push(&assignment.profile_id);
        }
        chunks.push(chunk);
        Assignments { chunks }
    }
}

impl TypeName for Assignments {
    fn type_name() -> &'static str {
        "Assignments"
    }

    fn value_type() -> napi::ValueType {
        napi::ValueType::Object
    }
}

impl ToNapiValue for Assignments {
    // SAFETY: `env` is the environment napi called this conversion with (its contract); every
    // value is made by napi's safe API in that environment and handed back as its raw handle.
    #[allow(unsafe_code)]
    unsafe fn to_napi_value(env: napi::sys::napi_env, value: Self) -> napi::Result<napi::sys::napi_value> {
        let js = Env::from_raw(env);
        let decode: Function<Array, Array> = js.run_script(DECODE)?;
        let mut chunks = js.create_array(value.chunks.len() as u32)?;
        for (i, chunk) in value.chunks.into_iter().enumerate() {
            let text = if chunk.text.is_ascii() {
                js.create_string_latin1(chunk.text.as_bytes())?
            } else {
                js.create_string_utf16(chunk.text.encode_utf16().collect::<Vec<u16>>())?
            };
            let mut pair = js.create_array(2)?;
            pair.set(0, text)?;
            pair.set(1, Uint32Array::new(chunk.offsets))?;
            chunks.set(i as u32, pair)?;
        }
        Ok(decode.call(chunks)?.raw())
    }
}
