//! The only module that names the YAML crate (serde-saphyr): parses one file into a
//! `serde_json::Value` plus, when asked (`Spans::Recorded`), an index from JSON pointer
//! to the 1-based line and column of each node and of each mapping key, so every later
//! stage can point at the exact text.
//!
//! Hardening: YAML 1.2 scalars (`no` stays a string, `0755` stays a string), unsupported
//! tags rejected, and a budget on depth, aliases and nodes, so alias bombs and deep nesting
//! end with a located error instead of exhausting memory or the stack.

use std::collections::HashMap;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Budget, NonFiniteFloatPolicy, Options, Spanned};

use crate::diag::Position;

/// Deepest nesting accepted; configuration never needs more than a handful of levels.
pub const MAX_DEPTH: usize = 32;

/// Stack for the parser thread: deserialising nested nodes recurses, and callers (test
/// threads, async workers) may have small stacks. With `MAX_DEPTH` this is ample.
const PARSER_STACK: usize = 16 * 1024 * 1024;

/// A parsed file: its value and where every node and key stands.
#[derive(Debug, Default)]
pub struct Parsed {
    pub value: serde_json::Value,
    /// Where every node and mapping key stands, by JSON pointer.
    positions: Positions,
}

/// Positions keyed by a 64-bit hash of the JSON pointer, chained segment by segment, so
/// no pointer string is stored: a 20,000-person roster has hundreds of thousands of
/// nodes, and a map of pointer strings was most of the loader's memory. A collision
/// (about 1 in 10^9 for a million nodes) could only misplace a diagnostic's caret.
/// Each position is packed into two `u32`s (a line or column past 4 billion saturates),
/// a third less than two `usize`s: every node of a large config has one.
#[derive(Debug, Default)]
struct Positions {
    nodes: HashMap<u64, Packed>,
    keys: HashMap<u64, Packed>,
}

#[derive(Debug, Clone, Copy)]
struct Packed {
    line: u32,
    column: u32,
}

impl From<Position> for Packed {
    fn from(p: Position) -> Packed {
        let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Packed {
            line: narrow(p.line),
            column: narrow(p.column),
        }
    }
}

impl From<Packed> for Position {
    fn from(p: Packed) -> Position {
        Position {
            line: p.line as usize,
            column: p.column as usize,
        }
    }
}

const ROOT: u64 = 0x7465_616d_7379_6e63;

/// The pointer hash of a child `segment` (already escaped, as in a JSON pointer).
fn child(parent: u64, segment: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    parent.hash(&mut h);
    segment.hash(&mut h);
    h.finish()
}

/// The hashes of `pointer` and of each of its ancestors, root first.
fn chain(pointer: &str) -> Vec<u64> {
    let mut hashes = vec![ROOT];
    if let Some(rest) = pointer.strip_prefix('/') {
        for segment in rest.split('/') {
            let last = hashes[hashes.len() - 1];
            hashes.push(child(last, segment));
        }
    }
    hashes
}

impl Parsed {
    /// The position of `pointer`, or of its nearest ancestor that has one.
    pub fn position(&self, pointer: &str) -> Option<Position> {
        self.nearest_node(&chain(pointer))
    }

    /// The position of the key of the entry at `pointer`, falling back to the node.
    pub fn key_position(&self, pointer: &str) -> Option<Position> {
        let hashes = chain(pointer);
        hashes
            .last()
            .and_then(|h| self.positions.keys.get(h).copied().map(Position::from))
            .or_else(|| self.nearest_node(&hashes))
    }

    /// The first and last line (1-based) the node at `pointer` and everything under it
    /// stand on, for the node itself (not an ancestor); `None` without positions. A
    /// block mapping `- person: bob` / `role: owner` spans both lines; a flow one, its line.
    pub fn lines(&self, pointer: &str) -> Option<(usize, usize)> {
        let hash = *chain(pointer).last()?;
        let first = self.positions.nodes.get(&hash)?.line as usize;
        let mut last = first;
        if let Some(node) = self.value.pointer(pointer) {
            self.last_line(node, hash, &mut last);
        }
        Some((first, last))
    }

    fn last_line(&self, node: &serde_json::Value, hash: u64, last: &mut usize) {
        let see = |p: Option<&Packed>, last: &mut usize| {
            if let Some(p) = p {
                *last = (*last).max(p.line as usize);
            }
        };
        match node {
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let h = child(hash, &i.to_string());
                    see(self.positions.nodes.get(&h), last);
                    self.last_line(item, h, last);
                }
            }
            serde_json::Value::Object(entries) => {
                for (key, value) in entries {
                    let h = child(hash, &escape_pointer(key));
                    see(self.positions.keys.get(&h), last);
                    see(self.positions.nodes.get(&h), last);
                    self.last_line(value, h, last);
                }
            }
            _ => {}
        }
    }

    fn nearest_node(&self, chain: &[u64]) -> Option<Position> {
        chain
            .iter()
            .rev()
            .find_map(|h| self.positions.nodes.get(h).copied().map(Position::from))
    }
}

/// A YAML syntax or budget error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub message: String,
    pub position: Option<Position>,
}

enum Node {
    /// Made by `PlainVisitor`, so both ways of parsing share the scalar rules.
    Scalar(serde_json::Value),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        PlainVisitor.visit_unit().map(Node::Scalar)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        PlainVisitor.visit_none().map(Node::Scalar)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        PlainVisitor.visit_bool(v).map(Node::Scalar)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        PlainVisitor.visit_i64(v).map(Node::Scalar)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        PlainVisitor.visit_u64(v).map(Node::Scalar)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        PlainVisitor.visit_f64(v).map(Node::Scalar)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        PlainVisitor.visit_str(v).map(Node::Scalar)
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        PlainVisitor.visit_string(v).map(Node::Scalar)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<Spanned<String>, Spanned<Node>>()? {
            entries.push(entry);
        }
        Ok(Node::Map(entries))
    }
}

/// A document read straight into a value, without positions: the same value as `walk`
/// makes of a `Node`, whose scalars this visitor makes too.
struct Plain(serde_json::Value);

impl<'de> Deserialize<'de> for Plain {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PlainVisitor).map(Plain)
    }
}

struct PlainVisitor;

impl<'de> Visitor<'de> for PlainVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Plain::deserialize(d).map(|p| p.0)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    /// NaN and the infinities have no JSON number: they stay text.
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v)
            .map(serde_json::Value::Number)
            .unwrap_or_else(|| serde_json::Value::String(v.to_string())))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(serde_json::Value::String(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(serde_json::Value::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(Plain(item)) = seq.next_element::<Plain>()? {
            items.push(item);
        }
        Ok(serde_json::Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = serde_json::Map::new();
        while let Some((key, Plain(value))) = map.next_entry::<String, Plain>()? {
            entries.insert(key, value);
        }
        Ok(serde_json::Value::Object(entries))
    }
}

fn options() -> Options {
    let mut budget = Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.max_aliases = 10_000;
    budget.max_anchors = 10_000;
    // Large enough for a 100,000-person roster (several nodes a person).
    budget.max_nodes = 5_000_000;
    budget.max_documents = 1;
    let mut o = Options::default();
    o.budget = Some(budget);
    o.strict_booleans = true;
    o.leading_zero_numbers_as_strings = true;
    o.underscored_numbers_as_strings = true;
    o.reject_unsupported_tags = true;
    // A `.nan` or `.inf` reaches the visitor, which keeps it as text. Set
    // explicitly: the crate's default rejects it only where no position is recorded, so
    // the two ways of parsing would disagree.
    o.non_finite_float_policy = NonFiniteFloatPolicy::PassThrough;
    o.with_snippet = false;
    o
}

fn position(loc: &serde_saphyr::Location) -> Option<Position> {
    let (line, column) = (loc.line(), loc.column());
    (line > 0).then_some(Position {
        line: line as usize,
        column: column.max(1) as usize,
    })
}

/// Escapes a mapping key for a JSON pointer (RFC 6901).
pub fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Whether a parse records where every node and key stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spans {
    /// Every node and key gets its position (what diagnostics point at).
    Recorded,
    /// No positions: `Parsed::position` answers `None`. Faster and without the position
    /// index, for a load that will report nothing; a load that has something to report
    /// parses again with `Recorded`.
    Skipped,
}

/// Parses one YAML document, recording positions or not. An empty document is `null`.
/// Both ways read the same events under the same options and budget, so they accept and
/// reject the same documents and give the same value. Runs on a thread of its own so
/// that the recursion bounded by `MAX_DEPTH` never depends on the caller's stack size.
pub fn parse_with(text: &str, spans: Spans) -> Result<Parsed, YamlError> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("yaml-parser".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, || parse_here(text, spans))
            .map_err(|e| YamlError {
                message: format!("cannot start the parser: {e}"),
                position: None,
            })?
            .join()
            .unwrap_or_else(|_| {
                Err(YamlError {
                    message: "the YAML parser failed on this input".into(),
                    position: None,
                })
            })
    })
}

fn parse_here(text: &str, spans: Spans) -> Result<Parsed, YamlError> {
    if text.trim().is_empty() {
        return Ok(Parsed {
            value: serde_json::Value::Null,
            ..Parsed::default()
        });
    }
    check_tags(text)?;
    if spans == Spans::Skipped {
        let Plain(value) = serde_saphyr::from_str_with_options(text, options())
            .map_err(|e| syntax_error(text, &e))?;
        return Ok(Parsed {
            value,
            positions: Positions::default(),
        });
    }
    let root: Spanned<Node> =
        serde_saphyr::from_str_with_options(text, options()).map_err(|e| syntax_error(text, &e))?;
    let mut positions = Positions::default();
    let value = walk(root, ROOT, &mut positions);
    Ok(Parsed { value, positions })
}

/// The parser's error, located; a flow collection left open is pointed at where it opens.
fn syntax_error(text: &str, e: &serde_saphyr::Error) -> YamlError {
    if let serde_saphyr::Error::DuplicateMappingKey { key, location } = e {
        return YamlError {
            message: match key {
                Some(key) => format!("key `{key}` is given twice in this mapping"),
                None => "a key is given twice in this mapping".into(),
            },
            position: position(location),
        };
    }
    let message = e.to_string();
    let message = message
        .lines()
        .next()
        .unwrap_or("invalid YAML")
        .trim()
        .to_string();
    let position = e.location().as_ref().and_then(position);
    match position.and_then(|at| unclosed_flow(text, at)) {
        // The parser notices a missing `]` or `}` only where the text stops making
        // sense, often lines later or at the end: point at the bracket instead.
        Some((bracket, opened)) if !message.contains("unclosed") => YamlError {
            message: format!(
                "`{bracket}` at line {}, column {} is never closed ({message})",
                opened.line, opened.column
            ),
            position: Some(opened),
        },
        _ => YamlError { message, position },
    }
}

/// Tags of the YAML 1.2 core schema; they only restate what a value is.
const CORE_TAGS: &[&str] = &["str", "int", "bool", "null", "float", "seq", "map"];

/// Refuses every tag but the core ones: the parser itself decodes `!!binary` (base64),
/// `!!timestamp` and others, which would let a file hide a name or an address behind an
/// encoding. Only a file with a `!` in it is scanned (one more pass over its events); a
/// syntax error is left to the real parse, which reports it with more context.
fn check_tags(text: &str) -> Result<(), YamlError> {
    use serde_saphyr::granit_parser::{Event, Parser};
    if !text.contains('!') {
        return Ok(());
    }
    for item in Parser::new_from_str(text) {
        let Ok((event, span)) = item else {
            return Ok(());
        };
        let tag = match &event {
            Event::Scalar(_, _, _, tag)
            | Event::SequenceStart(_, _, tag)
            | Event::MappingStart(_, _, tag) => tag.as_deref(),
            _ => None,
        };
        let Some(tag) = tag else { continue };
        if tag.core_suffix().is_some_and(|s| CORE_TAGS.contains(&s)) {
            continue;
        }
        let written = format!("{}{}", tag.original_handle(), tag.suffix());
        // The event starts at the value; point at the tag before it when it is on that line.
        let line = span.start.line().max(1);
        let value_col = span.start.col();
        let column = text
            .lines()
            .nth(line - 1)
            .map(|l| l.chars().take(value_col).collect::<String>())
            .and_then(|before| {
                let at = before.rfind(&written).or_else(|| before.rfind('!'))?;
                Some(before[..at].chars().count())
            })
            .unwrap_or(value_col);
        return Err(YamlError {
            message: format!(
                "unsupported tag `{written}`: only the core tags {} are allowed",
                CORE_TAGS
                    .iter()
                    .map(|t| format!("`!!{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            position: Some(Position {
                line,
                column: column + 1,
            }),
        });
    }
    Ok(())
}

/// The innermost flow collection (`[` or `{`) open where the parser stopped and never
/// closed after it, with where it opened. An error inside a collection that does close
/// (a key given twice in `{a: 1, a: 2}`) is about something else: `None`.
fn unclosed_flow(text: &str, stop: Position) -> Option<(char, Position)> {
    let innermost = open_flows(text, stop).pop()?;
    let end = Position {
        line: usize::MAX,
        column: usize::MAX,
    };
    open_flows(text, end)
        .contains(&innermost)
        .then_some(innermost)
}

/// The flow collections (`[` or `{`) open at `stop`, outermost first, with where each
/// opened. Quoted scalars and comments are skipped; in block context a bracket opens a
/// collection only where a value starts (after `key: `, `- ` or at a line's start).
fn open_flows(text: &str, stop: Position) -> Vec<(char, Position)> {
    let mut open: Vec<(char, Position)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line_no > stop.line {
            break;
        }
        let chars: Vec<char> = line.chars().collect();
        let mut at_value_start = true;
        let mut j = 0;
        while j < chars.len() {
            let column = j + 1;
            if line_no == stop.line && column >= stop.column {
                break;
            }
            let c = chars[j];
            let in_flow = !open.is_empty();
            match c {
                ' ' | '\t' => {
                    j += 1;
                    continue;
                }
                '#' if j == 0 || chars[j - 1] == ' ' || chars[j - 1] == '\t' => break,
                '"' | '\'' if at_value_start => {
                    // Skip to the closing quote on this line (`''` and `\"` escape).
                    j += 1;
                    while j < chars.len() {
                        if chars[j] == '\\' && c == '"' {
                            j += 2;
                            continue;
                        }
                        if chars[j] == c {
                            if c == '\'' && chars.get(j + 1) == Some(&'\'') {
                                j += 2;
                                continue;
                            }
                            break;
                        }
                        j += 1;
                    }
                    at_value_start = false;
                }
                '[' | '{' if in_flow || at_value_start => {
                    open.push((
                        c,
                        Position {
                            line: line_no,
                            column,
                        },
                    ));
                    at_value_start = true;
                    j += 1;
                    continue;
                }
                ']' | '}' if in_flow => {
                    open.pop();
                    at_value_start = false;
                }
                ',' if in_flow => {
                    at_value_start = true;
                    j += 1;
                    continue;
                }
                ':' | '-' | '?' if chars.get(j + 1).is_none_or(|n| *n == ' ' || *n == '\t') => {
                    at_value_start = true;
                    j += 1;
                    continue;
                }
                _ => at_value_start = false,
            }
            j += 1;
        }
    }
    open
}

/// Where a node stands in the text, for editing it in place: byte offsets (`start..end`
/// is the node's own text, a flow collection's brackets included, a block one's children)
/// and the 1-based line and 0-based column (in characters) of its start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub line: usize,
    pub column: usize,
}

/// A node of a document as written: its span and shape, for editing it without
/// re-emitting it ([`layout`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub span: Span,
    pub shape: Shape,
}

/// What a node is, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A scalar; `plain` when written without quotes or a block indicator.
    Scalar { value: String, plain: bool },
    /// A sequence, `flow` when written `[…]`.
    Seq { flow: bool, items: Vec<Layout> },
    /// A mapping, `flow` when written `{…}`; each key with its span and its value.
    Map {
        flow: bool,
        entries: Vec<(String, Span, Layout)>,
    },
    /// An alias (`*name`), a node with an anchor or a tag, or a key that is not a plain
    /// string: text an edit cannot change without changing what it shares or means.
    Opaque,
}

impl Layout {
    /// The value under `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Layout> {
        match &self.shape {
            Shape::Map { entries, .. } => {
                entries.iter().find(|(k, _, _)| k == key).map(|(_, _, v)| v)
            }
            _ => None,
        }
    }

    /// The node at a JSON pointer of mapping keys and sequence indices (`/teams/0`).
    pub fn at(&self, pointer: &str) -> Option<&Layout> {
        let mut node = self;
        for segment in pointer.split('/').skip(1) {
            let segment = segment.replace("~1", "/").replace("~0", "~");
            node = match &node.shape {
                Shape::Map { .. } => node.get(&segment)?,
                Shape::Seq { items, .. } => items.get(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }
}

/// The layout of one document: every node's span and shape. The text must parse (it is a
/// file the loader accepted); an error is returned as the parser gives it.
pub fn layout(text: &str) -> Result<Layout, YamlError> {
    use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, StructureStyle};
    let failed = |message: String| YamlError {
        message,
        position: None,
    };
    let span_of = |s: &serde_saphyr::granit_parser::Span| -> Result<Span, YamlError> {
        let range = s
            .byte_range()
            .ok_or_else(|| failed("the parser gave no byte offsets".into()))?;
        Ok(Span {
            start: range.start,
            end: range.end,
            line: s.start.line(),
            column: s.start.col(),
        })
    };
    // Open collections: the start span, the shape so far and, for a mapping, a key read
    // and waiting for its value.
    struct Open {
        span: Span,
        flow: bool,
        opaque: bool,
        seq: Option<Vec<Layout>>,
        map: Vec<(String, Span, Layout)>,
        key: Option<Option<(String, Span)>>,
    }
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Layout> = None;
    // Places a finished node in its parent (as an item, a key or a value), or as the root.
    fn place(stack: &mut [Open], root: &mut Option<Layout>, node: Layout) {
        let Some(top) = stack.last_mut() else {
            *root = Some(node);
            return;
        };
        if let Some(items) = &mut top.seq {
            items.push(node);
            return;
        }
        match top.key.take() {
            None => {
                top.key = Some(match node.shape {
                    Shape::Scalar { value, .. } => Some((value, node.span)),
                    _ => None,
                });
            }
            Some(Some((key, at))) => top.map.push((key, at, node)),
            Some(None) => top.opaque = true,
        }
    }
    for item in Parser::new_from_str(text) {
        let (event, raw) = item.map_err(|e| failed(e.to_string()))?;
        match event {
            Event::Scalar(value, style, anchor, tag) => {
                let node = Layout {
                    span: span_of(&raw)?,
                    shape: if anchor != 0 || tag.is_some() {
                        Shape::Opaque
                    } else {
                        Shape::Scalar {
                            value: value.into_owned(),
                            plain: style == ScalarStyle::Plain,
                        }
                    },
                };
                place(&mut stack, &mut root, node);
            }
            Event::Alias(_) => {
                let node = Layout {
                    span: span_of(&raw)?,
                    shape: Shape::Opaque,
                };
                place(&mut stack, &mut root, node);
            }
            Event::SequenceStart(style, anchor, ref tag)
            | Event::MappingStart(style, anchor, ref tag) => {
                let is_seq = matches!(event, Event::SequenceStart(..));
                stack.push(Open {
                    span: span_of(&raw)?,
                    flow: style == StructureStyle::Flow,
                    opaque: anchor != 0 || tag.is_some(),
                    seq: is_seq.then(Vec::new),
                    map: Vec::new(),
                    key: None,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(open) = stack.pop() else {
                    return Err(failed("a collection ends that never started".into()));
                };
                let end = span_of(&raw)?;
                let last_end = |nodes: &mut dyn Iterator<Item = Span>| nodes.last().map(|s| s.end);
                let mut span = open.span;
                span.end = if open.flow {
                    end.end
                } else {
                    match &open.seq {
                        Some(items) => last_end(&mut items.iter().map(|i| i.span)),
                        None => last_end(&mut open.map.iter().map(|(_, _, v)| v.span)),
                    }
                    .unwrap_or(span.start)
                };
                let shape = match (open.opaque || open.key.is_some(), open.seq) {
                    (true, _) => Shape::Opaque,
                    (false, Some(items)) => Shape::Seq {
                        flow: open.flow,
                        items,
                    },
                    (false, None) => Shape::Map {
                        flow: open.flow,
                        entries: open.map,
                    },
                };
                place(&mut stack, &mut root, Layout { span, shape });
            }
            _ => {}
        }
    }
    root.ok_or_else(|| failed("the document is empty".into()))
}

fn walk(node: Spanned<Node>, pointer: u64, positions: &mut Positions) -> serde_json::Value {
    use serde_json::Value;
    if let Some(pos) = position(&node.referenced) {
        positions.nodes.insert(pointer, pos.into());
    }
    match node.value {
        Node::Scalar(v) => v,
        Node::Seq(items) => {
            // One buffer for every index: a list of a thousand members is a thousand
            // segments, none of which needs its own allocation.
            let mut index = String::new();
            Value::Array(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| {
                        use std::fmt::Write;
                        index.clear();
                        let _ = write!(index, "{i}");
                        walk(item, child(pointer, &index), positions)
                    })
                    .collect(),
            )
        }
        Node::Map(entries) => {
            let mut map = serde_json::Map::new();
            for (key, value) in entries {
                let child = child(pointer, &escape_pointer(&key.value));
                if let Some(pos) = position(&key.referenced) {
                    positions.keys.insert(child, pos.into());
                }
                let v = walk(value, child, positions);
                map.insert(key.value, v);
            }
            Value::Object(map)
        }
    }
}

#[cfg(test)]
mod tests;
