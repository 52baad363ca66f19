//! The writer schema compiled once, at parse time, for the direct decoder in `direct.rs`.
//!
//! Walking apache-avro's `Schema` per record means resolving names through a map built per
//! record and matching on logical-type wrappers; the compiled form is a flat node table with
//! references already resolved (recursive types point back into the table), field names ready
//! to clone and each array's "items may take zero bytes" answer precomputed.

use std::collections::HashMap;

use apache_avro::schema::{
    DecimalSchema, FixedSchema, InnerDecimalSchema, Name, NamesRef, Schema, UuidSchema,
};

use super::scan::can_be_empty;
use super::time::Unit;

/// Index into [`Program::nodes`].
pub(super) type NodeId = usize;

#[derive(Debug)]
pub(super) enum Node {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    UuidString,
    UuidBytes,
    /// `fixed(16)` with the uuid logical type.
    UuidFixed,
    Fixed(usize),
    Enum {
        symbols: Vec<String>,
        fullname: String,
    },
    Union(Vec<NodeId>),
    Record(Vec<Field>),
    Array {
        items: NodeId,
        /// Whether an item can occupy no bytes (then the empty-item budget applies).
        zero_sized: bool,
    },
    Map(NodeId),
    /// `fixed: None` for `bytes`.
    Decimal {
        scale: i64,
        fixed: Option<usize>,
    },
    BigDecimal,
    Date,
    TimeMillis,
    TimeMicros,
    Timestamp {
        unit: Unit,
        utc: bool,
    },
    Duration,
}

/// A record field: its name, the name as the JSON writer emits it, and its type.
#[derive(Debug)]
pub(super) struct Field {
    pub(super) name: String,
    /// `"name":` as serde_json escapes it, written as is for every record.
    pub(super) key: String,
    pub(super) node: NodeId,
}

#[derive(Debug)]
pub(super) struct Program {
    pub(super) nodes: Vec<Node>,
    pub(super) root: NodeId,
}

/// Compile `schema`, or `None` for anything the direct decoder does not mirror exactly (those
/// schemas keep the apache-avro path).
pub(super) fn compile(schema: &Schema, names: &NamesRef<'_>) -> Option<Program> {
    let mut c = Compiler {
        names,
        nodes: Vec::new(),
        named: HashMap::new(),
    };
    let root = c.node(schema, None)?;
    Some(Program {
        nodes: c.nodes,
        root,
    })
}

struct Compiler<'s, 'n> {
    names: &'s NamesRef<'n>,
    nodes: Vec<Node>,
    /// Named types already compiled (or being compiled), by full name.
    named: HashMap<Name, NodeId>,
}

impl Compiler<'_, '_> {
    fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// Compile a named type once; recursion finds the reserved slot.
    fn named(
        &mut self,
        name: &Name,
        ns: Option<&str>,
        build: impl FnOnce(&mut Self, Option<&str>) -> Option<Node>,
    ) -> Option<NodeId> {
        let fq = name.fully_qualified_name(ns).into_owned();
        if let Some(&id) = self.named.get(&fq) {
            return Some(id);
        }
        let id = self.push(Node::Null);
        self.named.insert(fq, id);
        let inner_ns = name.namespace().or(ns).map(str::to_owned);
        self.nodes[id] = build(self, inner_ns.as_deref())?;
        Some(id)
    }

    fn node(&mut self, schema: &Schema, ns: Option<&str>) -> Option<NodeId> {
        let simple = match schema {
            Schema::Null => Node::Null,
            Schema::Boolean => Node::Boolean,
            Schema::Int => Node::Int,
            Schema::Long => Node::Long,
            Schema::Float => Node::Float,
            Schema::Double => Node::Double,
            Schema::Bytes => Node::Bytes,
            Schema::String => Node::String,
            Schema::Uuid(UuidSchema::String) => Node::UuidString,
            Schema::Uuid(UuidSchema::Bytes) => Node::UuidBytes,
            Schema::Uuid(UuidSchema::Fixed(FixedSchema { size: 16, .. })) => Node::UuidFixed,
            Schema::Duration(FixedSchema { size: 12, .. }) => Node::Duration,
            Schema::Uuid(UuidSchema::Fixed(_)) | Schema::Duration(_) => return None,
            Schema::Decimal(DecimalSchema { scale, inner, .. }) => Node::Decimal {
                scale: i64::try_from(*scale).ok()?,
                fixed: match inner {
                    InnerDecimalSchema::Bytes => None,
                    InnerDecimalSchema::Fixed(f) => Some(f.size),
                },
            },
            Schema::BigDecimal => Node::BigDecimal,
            Schema::Date => Node::Date,
            Schema::TimeMillis => Node::TimeMillis,
            Schema::TimeMicros => Node::TimeMicros,
            Schema::TimestampMillis => ts(Unit::Millis, true),
            Schema::TimestampMicros => ts(Unit::Micros, true),
            Schema::TimestampNanos => ts(Unit::Nanos, true),
            Schema::LocalTimestampMillis => ts(Unit::Millis, false),
            Schema::LocalTimestampMicros => ts(Unit::Micros, false),
            Schema::LocalTimestampNanos => ts(Unit::Nanos, false),
            Schema::Fixed(f) => {
                return self.named(&f.name, ns, |_, _| Some(Node::Fixed(f.size)));
            }
            Schema::Enum(e) => {
                return self.named(&e.name, ns, |_, _| {
                    Some(Node::Enum {
                        symbols: e.symbols.clone(),
                        fullname: e.name.fullname(None),
                    })
                });
            }
            Schema::Record(r) => {
                return self.named(&r.name, ns, |c, inner_ns| {
                    let mut fields = Vec::with_capacity(r.fields.len());
                    for f in &r.fields {
                        let mut key = serde_json::to_string(&f.name).ok()?;
                        key.push(':');
                        fields.push(Field {
                            name: f.name.clone(),
                            key,
                            node: c.node(&f.schema, inner_ns)?,
                        });
                    }
                    Some(Node::Record(fields))
                });
            }
            Schema::Union(u) => {
                let mut branches = Vec::with_capacity(u.variants().len());
                for v in u.variants() {
                    branches.push(self.node(v, ns)?);
                }
                Node::Union(branches)
            }
            Schema::Array(a) => {
                let items = self.node(&a.items, ns)?;
                Node::Array {
                    items,
                    zero_sized: can_be_empty(&a.items, self.names, ns, 0),
                }
            }
            Schema::Map(m) => Node::Map(self.node(&m.types, ns)?),
            Schema::Ref { name } => {
                let fq = name.fully_qualified_name(ns);
                if let Some(&id) = self.named.get(fq.as_ref()) {
                    return Some(id);
                }
                let target = *self.names.get(fq.as_ref())?;
                let inner_ns = fq.namespace().map(str::to_owned);
                return self.node(target, inner_ns.as_deref());
            }
        };
        Some(self.push(simple))
    }
}

fn ts(unit: Unit, utc: bool) -> Node {
    Node::Timestamp { unit, utc }
}
