//! A small element tree over quick-xml, for nvidia-smi's `-q -x` document: elements, their
//! text, no attributes (nvidia-smi puts nothing in them that its elements do not also say).
//! A document that does not end (a truncated output), has mismatched tags or is not XML at
//! all is an error, never a partial tree.

use quick_xml::events::Event;
use quick_xml::Reader;

/// One element.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Node {
    pub name: String,
    /// Its text, trimmed (character and entity references resolved).
    pub text: String,
    pub children: Vec<Node>,
}

/// The deepest nesting accepted (nvidia-smi's documents are 6 deep).
const MAX_DEPTH: usize = 64;

impl Node {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The descendant at a path of child names.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        let mut n = self;
        for p in path {
            n = n.child(p)?;
        }
        Some(n)
    }

    /// The text at a path, when it is a value: not empty, not "N/A", not nvidia-smi's
    /// "[Not Supported]"/"[N/A]"/"Unknown Error"/"Requested functionality has been deprecated".
    pub fn value(&self, path: &[&str]) -> Option<&str> {
        let t = self.at(path)?.text.trim();
        let none = t.is_empty()
            || t.eq_ignore_ascii_case("N/A")
            || t.starts_with('[')
            || t.eq_ignore_ascii_case("Unknown Error")
            || t.starts_with("Requested functionality")
            || t.eq_ignore_ascii_case("None");
        (!none).then_some(t)
    }
}

/// Parse a whole document; the root element is returned.
pub(crate) fn parse(text: &str) -> Result<Node, String> {
    let mut r = Reader::from_str(text);
    r.config_mut().check_end_names = true;
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    loop {
        let ev = r
            .read_event()
            .map_err(|e| format!("not well-formed XML at byte {}: {e}", r.buffer_position()))?;
        match ev {
            Event::Start(e) => {
                if root.is_some() {
                    return Err("content after the document's end".into());
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("elements nested deeper than {MAX_DEPTH}"));
                }
                stack.push(Node {
                    name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                    ..Node::default()
                });
            }
            Event::Empty(e) => {
                let n = Node {
                    name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                    ..Node::default()
                };
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None if root.is_none() => root = Some(n),
                    None => return Err("content after the document's end".into()),
                }
            }
            Event::End(_) => {
                let Some(n) = stack.pop() else {
                    return Err("an end tag without its start".into());
                };
                match stack.last_mut() {
                    Some(p) => p.children.push(finish(n)),
                    None => root = Some(finish(n)),
                }
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|e| format!("bad text: {e}"))?;
                push_text(&mut stack, &s)?;
            }
            Event::CData(t) => {
                let s = t.decode().map_err(|e| format!("bad CDATA: {e}"))?;
                push_text(&mut stack, &s)?;
            }
            Event::GeneralRef(e) => {
                let c = match e.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = e.decode().map_err(|e| format!("bad reference: {e}"))?;
                        match name.as_ref() {
                            "lt" => "<".into(),
                            "gt" => ">".into(),
                            "amp" => "&".into(),
                            "quot" => "\"".into(),
                            "apos" => "'".into(),
                            other => return Err(format!("unknown entity &{other};")),
                        }
                    }
                    Err(e) => return Err(format!("bad character reference: {e}")),
                };
                push_text(&mut stack, &c)?;
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::DocType(_) | Event::Comment(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!(
            "the document ends inside <{}> (truncated output?)",
            open.name
        ));
    }
    root.ok_or_else(|| "no XML element at all".to_string())
}

fn push_text(stack: &mut [Node], s: &str) -> Result<(), String> {
    match stack.last_mut() {
        Some(n) => {
            n.text.push_str(s);
            Ok(())
        }
        None if s.trim().is_empty() => Ok(()),
        None => Err("text outside any element (not an XML document)".into()),
    }
}

fn finish(mut n: Node) -> Node {
    let t = n.text.trim();
    if t.len() != n.text.len() {
        n.text = t.to_string();
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trees_and_errors() {
        let n = parse("<?xml version=\"1.0\"?>\n<!DOCTYPE a SYSTEM \"a.dtd\">\n<a><b> x &amp; y </b><c/><b>2</b></a>")
            .expect("parses");
        assert_eq!(n.name, "a");
        assert_eq!(n.value(&["b"]), Some("x & y"));
        assert_eq!(n.all("b").count(), 2);
        assert!(n.child("c").is_some());
        for bad in [
            "",
            "garbage",
            "<a><b>",
            "<a><b></a>",
            "</a>",
            "<a></a><b></b>",
            "{\"json\": 1}",
            "<a>&bogus;</a>",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn values_that_say_nothing() {
        let n = parse("<a><b>N/A</b><c>[Not Supported]</c><d></d><e>Requested functionality has been deprecated</e><f>0</f></a>")
            .expect("parses");
        for p in ["b", "c", "d", "e", "missing"] {
            assert_eq!(n.value(&[p]), None, "{p}");
        }
        assert_eq!(n.value(&["f"]), Some("0"));
    }
}
