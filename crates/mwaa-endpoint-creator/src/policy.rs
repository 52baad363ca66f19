//! Editing the SQS interface endpoint's policy: adding and removing an
//! environment's Celery queue ARN. Pure JSON work, no AWS types.
//!
//! IAM lets `Statement` be one object or a list and `Resource` a string or a
//! list; the AWS sample appended to `Resource` as if it were always a list.
//! An `Allow` statement whose `Resource` is `*` already covers every queue,
//! so nothing is added then. Endpoint policies are capped at 20,480
//! characters (not adjustable): an edit that would exceed it fails instead
//! of being sent.

use serde_json::{Map, Value};

/// The fixed endpoint policy size limit, in characters.
pub const MAX_POLICY_CHARS: usize = 20_480;

/// What an edit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// The policy must be replaced with this document (compact JSON).
    Changed(String),
    /// Nothing to change, and why.
    Unchanged(&'static str),
}

/// Why a policy cannot be edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// Not a JSON object with a `Statement`, or a statement of the wrong shape.
    Malformed(String),
    /// No `Allow` statement with a `Resource` to extend.
    NoAllowStatement,
    /// The edited policy would exceed [`MAX_POLICY_CHARS`].
    TooLarge { chars: usize },
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicyError::Malformed(m) => write!(f, "the endpoint policy is malformed: {m}"),
            PolicyError::NoAllowStatement => write!(
                f,
                "the endpoint policy has no Allow statement with a Resource to add the queue to"
            ),
            PolicyError::TooLarge { chars } => write!(
                f,
                "adding the queue would make the endpoint policy {chars} characters, above the fixed limit of {MAX_POLICY_CHARS}"
            ),
        }
    }
}

fn parse(policy: &str) -> Result<Value, PolicyError> {
    let doc: Value = serde_json::from_str(policy)
        .map_err(|e| PolicyError::Malformed(format!("not JSON: {e}")))?;
    match doc.get("Statement") {
        Some(Value::Object(_)) | Some(Value::Array(_)) => Ok(doc),
        Some(_) => Err(PolicyError::Malformed(
            "Statement is neither an object nor a list".into(),
        )),
        None => Err(PolicyError::Malformed("no Statement".into())),
    }
}

/// The statements, whether `Statement` is one object or a list.
fn statements(doc: &mut Value) -> Result<Vec<&mut Map<String, Value>>, PolicyError> {
    let list: Vec<&mut Value> = match doc.get_mut("Statement") {
        Some(Value::Array(items)) => items.iter_mut().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return Err(PolicyError::Malformed("no Statement".into())),
    };
    list.into_iter()
        .enumerate()
        .map(|(i, s)| {
            s.as_object_mut()
                .ok_or_else(|| PolicyError::Malformed(format!("statement {i} is not an object")))
        })
        .collect()
}

fn is_allow(statement: &Map<String, Value>) -> bool {
    statement.get("Effect").and_then(Value::as_str) == Some("Allow")
}

/// The resources of a statement as strings (`Resource` string or list).
fn resources(statement: &Map<String, Value>) -> Vec<&str> {
    match statement.get("Resource") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn render(doc: &Value) -> Result<String, PolicyError> {
    let text = doc.to_string();
    let chars = text.chars().count();
    if chars > MAX_POLICY_CHARS {
        return Err(PolicyError::TooLarge { chars });
    }
    Ok(text)
}

/// Adds `queue_arn` to the policy's Allow statement.
///
/// The statement edited is the first Allow statement that already names an
/// SQS queue, else the first Allow statement with a `Resource`.
pub fn add_queue(policy: &str, queue_arn: &str) -> Result<Edit, PolicyError> {
    let mut doc = parse(policy)?;
    let mut statements = statements(&mut doc)?;
    let allows: Vec<usize> = (0..statements.len())
        .filter(|i| is_allow(statements[*i]))
        .collect();
    for &i in &allows {
        let r = resources(statements[i]);
        if r.contains(&"*") {
            return Ok(Edit::Unchanged(
                "an Allow statement already covers every resource (*)",
            ));
        }
        if r.contains(&queue_arn) {
            return Ok(Edit::Unchanged("the queue is already in the policy"));
        }
    }
    let target = allows
        .iter()
        .copied()
        .find(|i| {
            resources(statements[*i])
                .iter()
                .any(|r| r.starts_with("arn:aws") && r.contains(":sqs:"))
        })
        .or_else(|| {
            allows
                .iter()
                .copied()
                .find(|i| statements[*i].contains_key("Resource"))
        })
        .ok_or(PolicyError::NoAllowStatement)?;
    let statement = &mut statements[target];
    let arn = Value::String(queue_arn.to_string());
    match statement.get_mut("Resource") {
        Some(Value::Array(items)) => items.push(arn),
        Some(one @ Value::String(_)) => {
            let existing = one.take();
            *one = Value::Array(vec![existing, arn]);
        }
        _ => {
            return Err(PolicyError::Malformed(
                "the Allow statement's Resource is neither a string nor a list".into(),
            ))
        }
    }
    render(&doc).map(Edit::Changed)
}

/// Removes `queue_arn` from every Allow statement. A statement left without
/// resources is dropped; if that would leave no statement at all the policy
/// is left as it is (an empty policy is not valid, and resetting it would
/// grant full access).
pub fn remove_queue(policy: &str, queue_arn: &str) -> Result<Edit, PolicyError> {
    let mut doc = parse(policy)?;
    let mut changed = false;
    let mut emptied = Vec::new();
    for (i, statement) in statements(&mut doc)?.into_iter().enumerate() {
        if !is_allow(statement) {
            continue;
        }
        match statement.get_mut("Resource") {
            Some(Value::Array(items)) => {
                let before = items.len();
                items.retain(|r| r.as_str() != Some(queue_arn));
                if items.len() != before {
                    changed = true;
                    if items.is_empty() {
                        emptied.push(i);
                    }
                }
            }
            Some(Value::String(s)) if s == queue_arn => {
                changed = true;
                emptied.push(i);
            }
            _ => {}
        }
    }
    if !changed {
        return Ok(Edit::Unchanged("the queue is not in the policy"));
    }
    match doc.get_mut("Statement") {
        Some(Value::Array(items)) if emptied.len() < items.len() => {
            let mut i = 0;
            items.retain(|_| {
                let keep = !emptied.contains(&i);
                i += 1;
                keep
            });
        }
        _ if !emptied.is_empty() => {
            return Ok(Edit::Unchanged(
                "the queue is the policy's only resource; left in place rather than emptying the policy",
            ))
        }
        _ => {}
    }
    render(&doc).map(Edit::Changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const Q: &str = "arn:aws:sqs:us-east-1:123456789012:airflow-celery-new";
    const OTHER: &str = "arn:aws:sqs:us-east-1:123456789012:airflow-celery-old";

    fn changed(e: Edit) -> Value {
        match e {
            Edit::Changed(text) => serde_json::from_str(&text).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn adds_to_a_list_resource() {
        let policy = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": [OTHER]}]});
        let out = changed(add_queue(&policy.to_string(), Q).unwrap());
        assert_eq!(out["Statement"][0]["Resource"], json!([OTHER, Q]));
        assert_eq!(out["Version"], "2012-10-17");
    }

    #[test]
    fn turns_a_string_resource_into_a_list() {
        let policy = json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": OTHER}});
        let out = changed(add_queue(&policy.to_string(), Q).unwrap());
        assert_eq!(out["Statement"]["Resource"], json!([OTHER, Q]));
    }

    #[test]
    fn skips_star_and_duplicates() {
        let full = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]});
        assert_eq!(
            add_queue(&full.to_string(), Q).unwrap(),
            Edit::Unchanged("an Allow statement already covers every resource (*)")
        );
        let listed = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": ["*"]}]});
        assert!(matches!(
            add_queue(&listed.to_string(), Q).unwrap(),
            Edit::Unchanged(_)
        ));
        let present = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": Q}]});
        assert_eq!(
            add_queue(&present.to_string(), Q).unwrap(),
            Edit::Unchanged("the queue is already in the policy")
        );
    }

    #[test]
    fn prefers_the_allow_statement_that_lists_queues() {
        let policy = json!({"Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "sqs:DeleteQueue", "Resource": OTHER},
            {"Effect": "Allow", "Principal": "*", "Action": "sqs:ListQueues", "Resource": "arn:aws:iam::123456789012:root"},
            {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": [OTHER]}]});
        let out = changed(add_queue(&policy.to_string(), Q).unwrap());
        assert_eq!(out["Statement"][2]["Resource"], json!([OTHER, Q]));
        assert_eq!(
            out["Statement"][0]["Resource"],
            json!(OTHER),
            "Deny untouched"
        );
        assert_eq!(
            out["Statement"][1]["Resource"],
            json!("arn:aws:iam::123456789012:root")
        );
    }

    #[test]
    fn fails_clearly_without_an_allow_statement_or_when_malformed() {
        let deny = json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]});
        assert_eq!(
            add_queue(&deny.to_string(), Q),
            Err(PolicyError::NoAllowStatement)
        );
        assert!(matches!(
            add_queue("not json", Q),
            Err(PolicyError::Malformed(_))
        ));
        assert!(
            matches!(add_queue("{}", Q), Err(PolicyError::Malformed(m)) if m == "no Statement")
        );
        assert!(
            matches!(add_queue(r#"{"Statement": [1]}"#, Q), Err(PolicyError::Malformed(m)) if m.contains("statement 0"))
        );
    }

    #[test]
    fn refuses_to_exceed_the_size_limit() {
        // Fill a policy to just under the limit with queue ARNs.
        let mut arns = Vec::new();
        let mut policy = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": []}]});
        let mut n = 0;
        loop {
            let arn = format!("arn:aws:sqs:us-east-1:123456789012:airflow-celery-{n:08}");
            policy["Statement"][0]["Resource"] = json!([arns.clone(), vec![arn.clone()]].concat());
            if policy.to_string().len() > MAX_POLICY_CHARS - 20 {
                break;
            }
            arns.push(arn);
            n += 1;
        }
        policy["Statement"][0]["Resource"] = json!(arns);
        let text = policy.to_string();
        assert!(text.len() <= MAX_POLICY_CHARS);
        match add_queue(&text, Q) {
            Err(PolicyError::TooLarge { chars }) => assert!(chars > MAX_POLICY_CHARS),
            other => panic!("{other:?}"),
        }
        // Removing one makes room again.
        let smaller = changed(remove_queue(&text, &arns[0]).unwrap()).to_string();
        assert!(matches!(add_queue(&smaller, Q), Ok(Edit::Changed(_))));
    }

    #[test]
    fn removal_takes_the_arn_out_everywhere_and_never_empties_the_policy() {
        let policy = json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": [OTHER, Q]},
            {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": Q}]});
        let out = changed(remove_queue(&policy.to_string(), Q).unwrap());
        assert_eq!(
            out["Statement"],
            json!([{"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": [OTHER]}])
        );
        assert_eq!(
            remove_queue(&out.to_string(), Q).unwrap(),
            Edit::Unchanged("the queue is not in the policy")
        );
        let only = json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": Q}});
        assert!(
            matches!(remove_queue(&only.to_string(), Q).unwrap(), Edit::Unchanged(m) if m.contains("only resource"))
        );
        // Adding then removing gives the original document back.
        let original = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": [OTHER]}]}).to_string();
        let added = match add_queue(&original, Q).unwrap() {
            Edit::Changed(t) => t,
            e => panic!("{e:?}"),
        };
        assert_eq!(remove_queue(&added, Q).unwrap(), Edit::Changed(original));
    }
}
