//! JSON text without the whitespace between its tokens: hcl.json takes each entry file's own
//! bytes, minified.

/// Append JSON text without the whitespace between its tokens (strings kept byte for byte):
/// a pretty entry file becomes what `serde_json::to_vec` would have written.
pub(crate) fn minify_into(out: &mut Vec<u8>, json: &[u8]) {
    out.reserve(json.len());
    let n = json.len();
    let mut i = 0;
    // Runs of bytes to keep are copied whole: a string through its closing quote (an escape
    // skips the byte after the backslash), or structure, numbers and literals up to the next
    // whitespace or string.
    while i < n {
        match json[i] {
            b' ' | b'\n' | b'\r' | b'\t' => i += 1,
            b'"' => {
                let from = i;
                i += 1;
                while i < n {
                    match json[i] {
                        b'"' => {
                            i += 1;
                            break;
                        }
                        b'\\' => i += 2,
                        _ => i += 1,
                    }
                }
                out.extend_from_slice(&json[from..i.min(n)]);
            }
            _ => {
                let from = i;
                i += 1;
                while i < n && !matches!(json[i], b' ' | b'\n' | b'\r' | b'\t' | b'"') {
                    i += 1;
                }
                out.extend_from_slice(&json[from..i]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minify() {
        let mut o = Vec::new();
        minify_into(
            &mut o,
            b"{\n  \"a b\": [1, 2.5e3, true, null],\n  \"q\": \"x \\\" y\\\\\"\n}\n",
        );
        assert_eq!(o, br#"{"a b":[1,2.5e3,true,null],"q":"x \" y\\"}"#);
        // Cut short inside a string, or after a backslash: kept as it is, no panic.
        for cut in [&b"[\"ab"[..], b"[\"ab\\", b"\"", b"\\"] {
            let mut o = Vec::new();
            minify_into(&mut o, cut);
            assert_eq!(o, cut);
        }
    }
}
