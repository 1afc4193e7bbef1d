//! Names numbered once: a domain or relay that repeats on millions of lines is kept as one
//! text and referred to by a 4-byte number.

use rustc_hash::FxHashMap;

/// Names numbered in the order first seen, one number per distinct text: for items held by
/// the million, where a 4-byte number costs less than a shared pointer and compares and
/// hashes faster than the text.
#[derive(Default)]
pub struct NameIds {
    /// By the bytes as written, and by the text itself.
    ids: FxHashMap<Vec<u8>, u32>,
    names: Vec<String>,
}

impl NameIds {
    /// The number of the name written `b` (invalid UTF-8 replaced), lower-cased when
    /// `lower`: bytes that make the same text get the same number. Use one table per kind
    /// of name, always with the same `lower`.
    pub fn id(&mut self, b: &[u8], lower: bool) -> u32 {
        if let Some(&i) = self.ids.get(b) {
            return i;
        }
        let mut text = String::from_utf8_lossy(b).into_owned();
        if lower {
            text.make_ascii_lowercase();
        }
        let i = match self.ids.get(text.as_bytes()) {
            Some(&i) => i,
            None => {
                let i = self.names.len() as u32;
                self.ids.insert(text.as_bytes().to_vec(), i);
                self.names.push(text);
                i
            }
        };
        // Written otherwise (letter case, invalid UTF-8): that spelling is found at once too.
        if b != self.names[i as usize].as_bytes() {
            self.ids.insert(b.to_vec(), i);
        }
        i
    }

    /// The names, by number.
    pub fn into_names(self) -> Vec<String> {
        self.names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_number_per_text() {
        let mut n = NameIds::default();
        let a = n.id(b"Example.COM", true);
        assert_eq!(
            n.id(b"example.com", true),
            a,
            "the same text, written otherwise"
        );
        assert_eq!(n.id(b"Example.COM", true), a);
        let b = n.id(b"other.example", true);
        assert_ne!(a, b);
        let bad = n.id(b"x\xff.example", true);
        assert_eq!(
            n.id(b"x\xfe.example", true),
            bad,
            "both read as x\u{fffd}.example"
        );
        assert_eq!(
            n.into_names(),
            ["example.com", "other.example", "x\u{fffd}.example"]
        );
    }
}
