//! Before and after, leaf by leaf: the attributes a change touches, each side shown with its
//! secrets and unknowns as the plan marks them.

use super::{AttributeChange, RawChange, RawPlan, Shown, MAX_ATTRIBUTES, MAX_VALUE_CHARS};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// A sensitivity or unknown mark at one place of a value: nothing, the whole of it, or a tree
/// of marks for its parts (Terraform's `*_sensitive` and `after_unknown` shapes).
#[derive(Clone, Copy)]
enum Mark<'a> {
    No,
    All,
    Tree(&'a Value),
}

impl<'a> Mark<'a> {
    fn of(value: &'a Value) -> Mark<'a> {
        match value {
            Value::Bool(true) => Mark::All,
            Value::Object(_) | Value::Array(_) => Mark::Tree(value),
            _ => Mark::No,
        }
    }

    fn key(self, key: &str) -> Mark<'a> {
        match self {
            Mark::All => Mark::All,
            Mark::Tree(Value::Object(map)) => map.get(key).map_or(Mark::No, Mark::of),
            _ => Mark::No,
        }
    }

    fn index(self, index: usize) -> Mark<'a> {
        match self {
            Mark::All => Mark::All,
            Mark::Tree(Value::Array(items)) => items.get(index).map_or(Mark::No, Mark::of),
            _ => Mark::No,
        }
    }

    fn is_all(self) -> bool {
        matches!(self, Mark::All)
    }
}

fn present(value: &Value) -> Option<&Value> {
    (!value.is_null()).then_some(value)
}

// ---- Secrets: every string the plan marks sensitive, hidden wherever it appears whole.

pub(super) fn secrets_of(plan: &RawPlan) -> HashSet<&str> {
    let mut secrets = HashSet::new();
    let drift = plan.resource_drift.iter().flatten();
    for raw in plan.resource_changes.iter().flatten().chain(drift) {
        collect_marked(
            &raw.change.before,
            Mark::of(&raw.change.before_sensitive),
            &mut secrets,
        );
        collect_marked(
            &raw.change.after,
            Mark::of(&raw.change.after_sensitive),
            &mut secrets,
        );
    }
    for change in plan.output_changes.iter().flat_map(BTreeMap::values) {
        collect_marked(
            &change.before,
            Mark::of(&change.before_sensitive),
            &mut secrets,
        );
        collect_marked(
            &change.after,
            Mark::of(&change.after_sensitive),
            &mut secrets,
        );
    }
    let declared = plan
        .configuration
        .as_ref()
        .and_then(|c| c.root_module.as_ref())
        .and_then(|m| m.variables.as_ref());
    for (name, variable) in plan.variables.iter().flatten() {
        let sensitive = declared
            .and_then(|d| d.get(name))
            .is_some_and(|d| d.sensitive == Some(true));
        if sensitive {
            collect_marked(&variable.value, Mark::All, &mut secrets);
        }
    }
    secrets
}

/// The non-empty strings of `value` under a sensitive mark.
fn collect_marked<'a>(value: &'a Value, mark: Mark, secrets: &mut HashSet<&'a str>) {
    match (value, mark) {
        (_, Mark::No) => {}
        (Value::String(s), Mark::All) if !s.is_empty() => {
            secrets.insert(s.as_str());
        }
        (Value::Array(items), _) => {
            for (index, item) in items.iter().enumerate() {
                collect_marked(item, mark.index(index), secrets);
            }
        }
        (Value::Object(map), _) => {
            for (key, item) in map {
                collect_marked(item, mark.key(key), secrets);
            }
        }
        _ => {}
    }
}

// ---- Attributes: the leaves of before and after that differ.

/// The paths of `replace_paths` as a tree, so each attribute finds its own in one step.
#[derive(Default)]
struct ReplaceTree<'a> {
    whole: bool,
    keys: BTreeMap<&'a str, ReplaceTree<'a>>,
    indexes: BTreeMap<u64, ReplaceTree<'a>>,
}

impl<'a> ReplaceTree<'a> {
    fn of(paths: &'a [Vec<Value>]) -> ReplaceTree<'a> {
        let mut root = ReplaceTree::default();
        for path in paths {
            let mut node = &mut root;
            for step in path {
                node = match (step.as_str(), step.as_u64()) {
                    (Some(key), _) => node.keys.entry(key).or_default(),
                    (None, Some(index)) => node.indexes.entry(index).or_default(),
                    // A step Slipway cannot follow: the whole place before it forces it.
                    _ => break,
                };
            }
            node.whole = true;
        }
        root
    }
}

/// Where an attribute stands with `replace_paths`.
#[derive(Clone, Copy)]
enum Forcing<'t, 'a> {
    Forced,
    Within(Option<&'t ReplaceTree<'a>>),
}

impl<'t, 'a> Forcing<'t, 'a> {
    fn step(self, segment: Segment) -> Self {
        let Forcing::Within(Some(tree)) = self else {
            return self;
        };
        let next = match segment {
            Segment::Key(key) => tree.keys.get(key),
            Segment::Index(index) => tree.indexes.get(&(index as u64)),
        };
        match next {
            Some(next) if next.whole => Forcing::Forced,
            next => Forcing::Within(next),
        }
    }

    /// A leaf forces replacement when a replace path reaches it or goes on inside it.
    fn forces(self) -> bool {
        match self {
            Forcing::Forced => true,
            Forcing::Within(Some(tree)) => !tree.keys.is_empty() || !tree.indexes.is_empty(),
            Forcing::Within(None) => false,
        }
    }
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// One place in the before and after values, with its marks.
#[derive(Clone, Copy)]
struct Place<'v, 't> {
    before: Option<&'v Value>,
    after: Option<&'v Value>,
    before_sensitive: Mark<'v>,
    after_sensitive: Mark<'v>,
    unknown: Mark<'v>,
    forcing: Forcing<'t, 'v>,
}

impl<'v, 't> Place<'v, 't> {
    fn child(&self, segment: Segment<'v>) -> Place<'v, 't> {
        let (before, after, before_sensitive, after_sensitive, unknown) = match segment {
            Segment::Key(key) => (
                self.before.and_then(|v| v.get(key)),
                self.after.and_then(|v| v.get(key)),
                self.before_sensitive.key(key),
                self.after_sensitive.key(key),
                self.unknown.key(key),
            ),
            Segment::Index(index) => (
                self.before.and_then(|v| v.get(index)),
                self.after.and_then(|v| v.get(index)),
                self.before_sensitive.index(index),
                self.after_sensitive.index(index),
                self.unknown.index(index),
            ),
        };
        Place {
            before: before.filter(|v| !v.is_null()),
            after: after.filter(|v| !v.is_null()),
            before_sensitive,
            after_sensitive,
            unknown,
            forcing: self.forcing.step(segment),
        }
    }

    /// Whether this place is shown whole (a leaf) rather than by its parts.
    fn is_leaf(&self, root: bool) -> bool {
        let hidden = (self.before.is_some() && self.before_sensitive.is_all())
            || (self.after.is_some() && self.after_sensitive.is_all());
        if !root && (self.unknown.is_all() || hidden) {
            return true;
        }
        let sides = [self.before, self.after];
        let present = sides.iter().flatten();
        let objects = present.clone().all(|v| v.is_object());
        let arrays = present.clone().all(|v| v.is_array());
        let unknown_parts = match self.unknown {
            Mark::Tree(tree) => Some(tree),
            _ => None,
        };
        let filled = present
            .clone()
            .copied()
            .chain(unknown_parts)
            .any(|v| match v {
                Value::Object(map) => !map.is_empty(),
                Value::Array(items) => !items.is_empty(),
                _ => false,
            });
        let any = present.count() > 0;
        !(any && (objects || arrays) && (filled || root))
    }
}

struct AttributeWalk<'v, 's> {
    secrets: &'s HashSet<&'v str>,
    path: Vec<Segment<'v>>,
    attributes: Vec<AttributeChange>,
    more: usize,
}

pub(super) fn attribute_changes(
    change: &RawChange,
    secrets: &HashSet<&str>,
) -> (Vec<AttributeChange>, usize) {
    let replace = ReplaceTree::of(change.replace_paths.as_deref().unwrap_or(&[]));
    let root = Place {
        before: present(&change.before),
        after: present(&change.after),
        before_sensitive: Mark::of(&change.before_sensitive),
        after_sensitive: Mark::of(&change.after_sensitive),
        unknown: Mark::of(&change.after_unknown),
        forcing: if replace.whole {
            Forcing::Forced
        } else {
            Forcing::Within(Some(&replace))
        },
    };
    let mut walk = AttributeWalk {
        secrets,
        path: Vec::new(),
        attributes: Vec::new(),
        more: 0,
    };
    walk.visit(root, true);
    (walk.attributes, walk.more)
}

impl<'v, 's> AttributeWalk<'v, 's> {
    /// Depth is bounded by serde_json's nesting limit, so recursion is safe here.
    fn visit(&mut self, place: Place<'v, '_>, root: bool) {
        if place.is_leaf(root) {
            if !root {
                self.leaf(&place);
            }
            return;
        }
        let object_of = |v: Option<&'v Value>| v.and_then(Value::as_object);
        let unknown_tree = match place.unknown {
            Mark::Tree(tree) => Some(tree),
            _ => None,
        };
        if place.before.or(place.after).is_some_and(Value::is_object) {
            let mut keys: Vec<&'v str> = [place.before, place.after, unknown_tree]
                .into_iter()
                .filter_map(object_of)
                .flat_map(|map| map.keys().map(String::as_str))
                .collect();
            keys.sort_unstable();
            keys.dedup();
            for key in keys {
                self.descend(&place, Segment::Key(key));
            }
        } else {
            let length = [place.before, place.after, unknown_tree]
                .into_iter()
                .flatten()
                .filter_map(Value::as_array)
                .map(Vec::len)
                .max()
                .unwrap_or(0);
            for index in 0..length {
                self.descend(&place, Segment::Index(index));
            }
        }
    }

    fn descend(&mut self, place: &Place<'v, '_>, segment: Segment<'v>) {
        self.path.push(segment);
        self.visit(place.child(segment), false);
        self.path.pop();
    }

    fn leaf(&mut self, place: &Place<'v, '_>) {
        let changed = place.unknown.is_all()
            || place.before != place.after
            || (place.before.is_some()
                && place.before_sensitive.is_all() != place.after_sensitive.is_all());
        if !changed {
            return;
        }
        if self.attributes.len() >= MAX_ATTRIBUTES {
            self.more += 1;
            return;
        }
        self.attributes.push(AttributeChange {
            path: path_text(&self.path, MAX_VALUE_CHARS),
            before: shown(place.before, place.before_sensitive, Mark::No, self.secrets),
            after: shown(
                place.after,
                place.after_sensitive,
                place.unknown,
                self.secrets,
            ),
            forces_replacement: place.forcing.forces(),
        });
    }
}

/// `tags.Name`, `subnets[0]`; a key that is not a plain name is quoted: `tags["a.b/c"]`. Cut at
/// `max` characters like a value.
fn path_text(path: &[Segment], max: usize) -> String {
    let mut text = String::new();
    for segment in path {
        match segment {
            Segment::Key(key) if is_plain_name(key) => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(key);
            }
            Segment::Key(key) => {
                text.push('[');
                push_quoted(&mut text, key);
                text.push(']');
            }
            Segment::Index(index) => text.push_str(&format!("[{index}]")),
        }
        if text.len() > max * 4 {
            break;
        }
    }
    match text.char_indices().nth(max) {
        Some((end, _)) => {
            text.truncate(end);
            text.push('…');
            text
        }
        None => text,
    }
}

fn is_plain_name(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn push_quoted(text: &mut String, value: &str) {
    text.push('"');
    for c in value.chars() {
        match c {
            '"' => text.push_str("\\\""),
            '\\' => text.push_str("\\\\"),
            '\n' => text.push_str("\\n"),
            '\r' => text.push_str("\\r"),
            '\t' => text.push_str("\\t"),
            c if c.is_control() => text.push_str(&format!("\\u{:04x}", c as u32)),
            c => text.push(c),
        }
    }
    text.push('"');
}

// ---- Showing one side of a value.

/// An output's before and after: shown whole, hidden where marked sensitive.
pub(super) fn output_sides(change: &RawChange, secrets: &HashSet<&str>) -> (Shown, Shown) {
    let before = shown(
        present(&change.before),
        Mark::of(&change.before_sensitive),
        Mark::No,
        secrets,
    );
    let after = shown(
        present(&change.after),
        Mark::of(&change.after_sensitive),
        Mark::of(&change.after_unknown),
        secrets,
    );
    (before, after)
}

fn shown(value: Option<&Value>, sensitive: Mark, unknown: Mark, secrets: &HashSet<&str>) -> Shown {
    if unknown.is_all() {
        return Shown::Unknown;
    }
    let Some(value) = value else {
        return Shown::Absent;
    };
    if sensitive.is_all() || value.as_str().is_some_and(|s| secrets.contains(s)) {
        return Shown::Sensitive;
    }
    let mut compact = Compact::default();
    compact.value(value, sensitive, unknown, secrets);
    Shown::Value(compact.finish())
}

/// A compact rendering that stops at `MAX_VALUE_CHARS`, so a huge value costs no more than that.
#[derive(Default)]
struct Compact {
    text: String,
    chars: usize,
    cut: bool,
}

impl Compact {
    fn push(&mut self, text: &str) {
        for c in text.chars() {
            if self.chars == MAX_VALUE_CHARS {
                self.cut = true;
                return;
            }
            self.text.push(c);
            self.chars += 1;
        }
    }

    fn quoted(&mut self, value: &str) {
        let mut piece = String::new();
        let mut chars = value.chars();
        self.push("\"");
        // In pieces, so a long string is escaped only as far as it is shown.
        loop {
            piece.clear();
            let taken: String = chars.by_ref().take(64).collect();
            if taken.is_empty() || self.cut {
                break;
            }
            push_quoted(&mut piece, &taken);
            self.push(&piece[1..piece.len() - 1]);
        }
        self.push("\"");
    }

    fn value(&mut self, value: &Value, sensitive: Mark, unknown: Mark, secrets: &HashSet<&str>) {
        if self.cut {
            return;
        }
        if unknown.is_all() {
            self.push("(known after apply)");
            return;
        }
        if sensitive.is_all() {
            self.push("(sensitive)");
            return;
        }
        match value {
            Value::Null => self.push("null"),
            Value::Bool(b) => self.push(if *b { "true" } else { "false" }),
            Value::Number(n) => self.push(&n.to_string()),
            Value::String(s) if secrets.contains(s.as_str()) => self.push("(sensitive)"),
            Value::String(s) => self.quoted(s),
            Value::Array(items) => {
                self.push("[");
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        self.push(",");
                    }
                    self.value(item, sensitive.index(index), unknown.index(index), secrets);
                    if self.cut {
                        return;
                    }
                }
                self.push("]");
            }
            Value::Object(map) => {
                self.push("{");
                // Sorted here too, whatever serde_json's map keeps: same plan, same text.
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_unstable_by_key(|(key, _)| *key);
                for (index, (key, item)) in entries.into_iter().enumerate() {
                    if index > 0 {
                        self.push(",");
                    }
                    self.quoted(key);
                    self.push(":");
                    self.value(item, sensitive.key(key), unknown.key(key), secrets);
                    if self.cut {
                        return;
                    }
                }
                self.push("}");
            }
        }
    }

    fn finish(mut self) -> String {
        if self.cut {
            self.text.push('…');
        }
        self.text
    }
}
