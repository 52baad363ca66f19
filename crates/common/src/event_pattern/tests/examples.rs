//! The user guide's and event-ruler's examples, and the edge cases they document.

use serde_json::{json, Value};

use super::matches;

/// The EC2 event of event-ruler's README.
fn ec2_event() -> Value {
    json!({
        "version": "0",
        "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": "012345679012",
        "time": "2017-10-02T16:24:49Z",
        "region": "us-east-1",
        "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
        "detail": {
            "c-count": 5, "d-count": 3, "x-limit": 301.8, "source-ip": "10.0.0.33",
            "instance-id": "i-000000aaaaaa00000", "state": "running"
        }
    })
}

#[test]
fn readme_rules_all_match_the_ec2_event() {
    let rules = [
        json!({"detail-type": ["EC2 Instance State-change Notification"],
               "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
               "detail": {"state": ["initializing", "running"]}}),
        json!({"time": [{"prefix": "2017-10-02"}]}),
        json!({"source": [{"suffix": "ec2"}]}),
        json!({"source": [{"equals-ignore-case": "AWS.EC2"}]}),
        json!({"source": [{"wildcard": "aws.*2"}]}),
        json!({"detail": {"state": [{"anything-but": "initializing"}]}}),
        json!({"detail": {"x-limit": [{"anything-but": 123}]}}),
        json!({"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}),
        json!({"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}}),
        json!({"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}),
        json!({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}],
                          "d-count": [{"numeric": ["<", 10]}],
                          "x-limit": [{"numeric": ["=", 3.018e2]}]}}),
        json!({"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}),
        json!({"detail": {"c-count": [{"exists": true}]}}),
        json!({"detail": {"nope": [{"exists": false}]}}),
        json!({"time": [{"prefix": "2017-10-02"}],
               "detail": {"state": [{"anything-but": "initializing"}],
                          "c-count": [{"numeric": [">", 0, "<=", 5]}],
                          "d-count": [{"numeric": ["<", 10]}],
                          "x-limit": [{"anything-but": [100, 200, 300]}],
                          "source-ip": [{"cidr": "10.0.0.0/8"}]}}),
    ];
    for rule in rules {
        assert!(matches(rule.clone(), ec2_event()), "{rule}");
    }
}

#[test]
fn near_misses_of_the_readme_rules_do_not_match() {
    let rules = [
        json!({"detail": {"state": ["initializing", "stopped"]}}),
        json!({"time": [{"prefix": "2017-10-03"}]}),
        json!({"source": [{"suffix": "EC2"}]}),
        json!({"source": [{"equals-ignore-case": "aws.ec"}]}),
        json!({"source": [{"wildcard": "aws.*3"}]}),
        json!({"detail": {"state": [{"anything-but": "running"}]}}),
        json!({"detail": {"state": [{"anything-but": {"prefix": "run"}}]}}),
        json!({"detail": {"state": [{"anything-but": {"suffix": "ing"}}]}}),
        json!({"detail": {"state": [{"anything-but": {"equals-ignore-case": ["RUNNING"]}}]}}),
        json!({"detail": {"state": [{"anything-but": {"wildcard": "r*g"}}]}}),
        json!({"detail": {"x-limit": [{"anything-but": [301.8]}]}}),
        json!({"detail": {"c-count": [{"numeric": [">", 5]}]}}),
        json!({"detail": {"c-count": [{"numeric": [">=", 0, "<", 5]}]}}),
        json!({"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}}),
        json!({"detail": {"c-count": [{"exists": false}]}}),
        json!({"detail": {"nope": [{"exists": true}]}}),
        // AND across fields: one failing field fails the rule.
        json!({"source": ["aws.ec2"], "detail": {"state": ["stopped"]}}),
    ];
    for rule in rules {
        assert!(!matches(rule.clone(), ec2_event()), "{rule}");
    }
}

/// The user guide's table of comparison operators ("Comparison operators for
/// use in event patterns"), each with an event that matches and one that does not.
#[test]
fn user_guide_operator_table() {
    let rows = [
        (
            json!({"Location": ["New York"], "Day": ["Monday"]}),
            json!({"Location": "New York", "Day": "Monday"}),
            json!({"Location": "New York", "Day": "Tuesday"}),
        ),
        (
            json!({"state": [{"anything-but": "initializing"}]}),
            json!({"state": "running"}),
            json!({"state": "initializing"}),
        ),
        (
            json!({"Region": [{"anything-but": {"prefix": "us-"}}]}),
            json!({"Region": "eu-west-1"}),
            json!({"Region": "us-east-1"}),
        ),
        (
            json!({"FileName": [{"anything-but": {"suffix": ".png"}}]}),
            json!({"FileName": "a.jpg"}),
            json!({"FileName": "a.png"}),
        ),
        (
            json!({"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}),
            json!({"state": "running"}),
            json!({"state": "INITIALIZING"}),
        ),
        (
            json!({"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}),
            json!({"FilePath": "/usr/bin/x"}),
            json!({"FilePath": "/usr/lib/x"}),
        ),
        (
            json!({"Region": [{"prefix": "us-"}]}),
            json!({"Region": "us-east-1"}),
            json!({"Region": "eu-west-1"}),
        ),
        (
            json!({"service": [{"prefix": {"equals-ignore-case": "eventb"}}]}),
            json!({"service": "EventBridge"}),
            json!({"service": "SNS"}),
        ),
        (
            json!({"LastName": [""]}),
            json!({"LastName": ""}),
            json!({"LastName": "Doe"}),
        ),
        (
            json!({"Name": ["Alice"]}),
            json!({"Name": "Alice"}),
            json!({"Name": "alice"}),
        ),
        (
            json!({"Name": [{"equals-ignore-case": "alice"}]}),
            json!({"Name": "ALICE"}),
            json!({"Name": "Bob"}),
        ),
        (
            json!({"FileName": [{"suffix": ".png"}]}),
            json!({"FileName": "a.png"}),
            json!({"FileName": "a.PNG"}),
        ),
        (
            json!({"service": [{"suffix": {"equals-ignore-case": "tbridge"}}]}),
            json!({"service": "EVENTBRIDGE"}),
            json!({"service": "SNS"}),
        ),
        (
            json!({"ProductName": [{"exists": true}]}),
            json!({"ProductName": "x"}),
            json!({"Other": "x"}),
        ),
        (
            json!({"ProductName": [{"exists": false}]}),
            json!({"Other": "x"}),
            json!({"ProductName": "x"}),
        ),
        (
            json!({"UserID": [null]}),
            json!({"UserID": null}),
            json!({"UserID": "u"}),
        ),
        (
            json!({"Weight": [{"numeric": [">", 10, "<=", 20]}]}),
            json!({"Weight": 20}),
            json!({"Weight": 10}),
        ),
        (
            json!({"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}),
            json!({"sourceIPAddress": "10.0.0.255"}),
            json!({"sourceIPAddress": "10.0.1.0"}),
        ),
        (
            json!({"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}),
            json!({"Day": "Monday"}),
            json!({"Location": "Boston", "Day": "Friday"}),
        ),
        (
            json!({"FilePath": [{"wildcard": "*/lib/*"}]}),
            json!({"FilePath": "/usr/lib/x"}),
            json!({"FilePath": "lib"}),
        ),
    ];
    for (p, yes, no) in rows {
        assert!(matches(p.clone(), yes.clone()), "{p} should match {yes}");
        assert!(!matches(p.clone(), no.clone()), "{p} should not match {no}");
    }
}

#[test]
fn null_and_empty_string_are_distinct_values() {
    // The user guide's "Matching on null values and empty strings" example.
    let event = json!({"detail": {"eventVersion": "", "responseElements": null}});
    assert!(matches(
        json!({"detail": {"eventVersion": [""]}}),
        event.clone()
    ));
    assert!(matches(
        json!({"detail": {"responseElements": [null]}}),
        event.clone()
    ));
    assert!(!matches(
        json!({"detail": {"eventVersion": [null]}}),
        event.clone()
    ));
    assert!(!matches(
        json!({"detail": {"responseElements": [""]}}),
        event.clone()
    ));
    // null is a present value, not an absent field.
    assert!(matches(
        json!({"detail": {"responseElements": [{"exists": true}]}}),
        event.clone()
    ));
    assert!(!matches(
        json!({"detail": {"responseElements": [{"exists": false}]}}),
        event
    ));
}

#[test]
fn values_match_by_type() {
    let event = json!({"n": 300, "s": "300", "b": true, "f": 300.0});
    assert!(matches(json!({"n": [300.0]}), event.clone()));
    assert!(matches(json!({"f": [300]}), event.clone()));
    assert!(!matches(json!({"n": ["300"]}), event.clone()));
    assert!(!matches(json!({"s": [300]}), event.clone()));
    assert!(!matches(json!({"b": ["true"]}), event.clone()));
    assert!(!matches(json!({"b": [1]}), event.clone()));
    assert!(matches(json!({"b": [true]}), event.clone()));
    assert!(!matches(
        json!({"s": [{"numeric": ["=", 300]}]}),
        event.clone()
    ));
    assert!(!matches(json!({"n": [{"prefix": "3"}]}), event.clone()));
    // anything-but matches values of other types.
    assert!(matches(
        json!({"n": [{"anything-but": "300"}]}),
        event.clone()
    ));
    assert!(matches(json!({"s": [{"anything-but": 300}]}), event));
}

#[test]
fn event_arrays_match_when_any_element_matches() {
    let event = json!({"resources": ["arn:a", "arn:b"], "tags": [["x", "y"], ["z"]], "empty": []});
    assert!(matches(
        json!({"resources": ["arn:b", "arn:c"]}),
        event.clone()
    ));
    assert!(!matches(json!({"resources": ["arn:c"]}), event.clone()));
    assert!(matches(
        json!({"resources": [{"prefix": "arn:b"}]}),
        event.clone()
    ));
    assert!(
        matches(json!({"tags": ["z"]}), event.clone()),
        "nested arrays flatten"
    );
    // anything-but on an array: some element is not excluded.
    assert!(matches(
        json!({"resources": [{"anything-but": "arn:a"}]}),
        event.clone()
    ));
    assert!(!matches(
        json!({"resources": [{"anything-but": ["arn:a", "arn:b"]}]}),
        event.clone()
    ));
    // An empty array holds no value.
    assert!(matches(
        json!({"empty": [{"exists": false}]}),
        event.clone()
    ));
    assert!(!matches(
        json!({"empty": [{"exists": true}]}),
        event.clone()
    ));
    assert!(!matches(json!({"empty": [{"anything-but": "x"}]}), event));
}

#[test]
fn arrays_of_objects_match_consistently_within_one_element() {
    // event-ruler's README, "JSON Array Matching".
    let event = json!({"employees": [
        {"firstName": "John", "lastName": "Doe"},
        {"firstName": "Anna", "lastName": "Smith"},
        {"firstName": "Peter", "lastName": "Jones"}
    ]});
    assert!(matches(
        json!({"employees": {"firstName": ["Anna"]}}),
        event.clone()
    ));
    assert!(matches(
        json!({"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}),
        event.clone()
    ));
    assert!(!matches(
        json!({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}),
        event.clone()
    ));
    let nested = json!({"employees": [
        [{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"}],
        [{"firstName": "Peter", "lastName": "Jones"}]
    ]});
    assert!(matches(
        json!({"employees": {"firstName": ["Peter"]}}),
        nested.clone()
    ));
    assert!(!matches(
        json!({"employees": {"firstName": ["John"], "lastName": ["Smith"]}}),
        nested
    ));
}

#[test]
fn exists_looks_at_leaves_only() {
    // event-ruler's README: exists:false matches when the field is an object.
    let event = json!({"detail": {"state": "running", "c-count": {"c1": 100}}});
    assert!(matches(
        json!({"detail": {"c-count": [{"exists": false}]}}),
        event.clone()
    ));
    assert!(!matches(
        json!({"detail": {"c-count": [{"exists": true}]}}),
        event.clone()
    ));
    assert!(matches(
        json!({"detail": {"c-count": {"c1": [{"exists": true}]}}}),
        event.clone()
    ));
    // A pattern descending into a scalar finds nothing there.
    assert!(matches(
        json!({"detail": {"state": {"x": [{"exists": false}]}}}),
        event.clone()
    ));
    assert!(!matches(
        json!({"detail": {"state": {"x": [{"exists": true}]}}}),
        event
    ));
}

#[test]
fn or_combines_alternatives_and_nests() {
    let p = json!({
        "source": ["aws.cloudwatch"],
        "$or": [
            {"metricName": ["CPUUtilization", "ReadLatency"]},
            {"metricType": ["MetricType"], "namespace": ["AWS/EC2", "AWS/ES"],
             "$or": [{"metricId": [1234]}, {"spaceId": [1000]}]},
            {"scope": ["Service"]}
        ]
    });
    let base = |extra: Value| {
        let mut e = json!({"source": "aws.cloudwatch"});
        e.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        e
    };
    assert!(matches(
        p.clone(),
        base(json!({"metricName": "ReadLatency"}))
    ));
    assert!(matches(p.clone(), base(json!({"scope": "Service"}))));
    assert!(matches(
        p.clone(),
        base(json!({"metricType": "MetricType", "namespace": "AWS/ES", "spaceId": 1000}))
    ));
    assert!(!matches(
        p.clone(),
        base(json!({"metricType": "MetricType", "namespace": "AWS/ES", "spaceId": 1})),
    ));
    assert!(!matches(
        p,
        json!({"source": "aws.ec2", "scope": "Service"})
    ));
    // Parallel $or in a nested object.
    let parallel = json!({
        "$or": [{"a": [1]}, {"b": [2]}],
        "detail": {"$or": [{"source": ["x"]}, {"detail-type": ["y"]}]}
    });
    assert!(matches(
        parallel.clone(),
        json!({"b": 2, "detail": {"detail-type": "y"}})
    ));
    assert!(!matches(
        parallel,
        json!({"b": 2, "detail": {"source": "y"}})
    ));
}

#[test]
fn or_with_fewer_than_two_objects_is_a_field_name() {
    let p = json!({"$or": {"metricType": ["MetricType"]}});
    assert!(matches(
        p.clone(),
        json!({"$or": {"metricType": "MetricType"}})
    ));
    assert!(!matches(p, json!({"metricType": "MetricType"})));
}

#[test]
fn prefix_and_suffix_ignore_case_forms() {
    let e = json!({"key": "Reports/2026/Q1.CSV"});
    assert!(matches(
        json!({"key": [{"prefix": {"equals-ignore-case": "reports/"}}]}),
        e.clone()
    ));
    assert!(matches(
        json!({"key": [{"suffix": {"equals-ignore-case": ".csv"}}]}),
        e.clone()
    ));
    assert!(!matches(
        json!({"key": [{"prefix": "reports/"}]}),
        e.clone()
    ));
    assert!(!matches(json!({"key": [{"suffix": ".csv"}]}), e));
}

#[test]
fn wildcards_with_escapes() {
    let w = |p: &str, s: &str| matches(json!({"k": [{"wildcard": p}]}), json!({"k": s}));
    assert!(w("aws-cli/*", "aws-cli/2.15.0 Python/3.11.6 Linux/6.1"));
    assert!(!w("aws-cli/*", "Boto3/1.34.0 aws-cli/2"));
    assert!(w("*", ""));
    assert!(w("a*b*c", "abc"));
    assert!(w("a*b*c", "aXbYbZc"));
    assert!(!w("a*b*c", "aXbYcZ"));
    assert!(w("a*aa", "aaa"));
    assert!(!w("a*aa", "aa"), "pieces may not overlap");
    assert!(w(r"a\*b", "a*b"));
    assert!(!w(r"a\*b", "aXb"));
    assert!(w(r"a\\*", r"a\anything"));
    assert!(!w("abc", "abcd"));
}

#[test]
fn numeric_ranges_and_limits() {
    let n = |p: Value, x: Value| matches(json!({"n": [{"numeric": p}]}), json!({"n": x}));
    assert!(n(json!([">=", 1, "<", 2]), json!(1)));
    assert!(!n(json!([">=", 1, "<", 2]), json!(2)));
    assert!(n(json!([">", 1, "<=", 2]), json!(2)));
    assert!(n(json!(["=", -5]), json!(-5.0)));
    assert!(!n(json!([">", 0]), json!("5")), "strings are not numbers");
    assert!(
        !n(json!([">", 0]), json!(6e9)),
        "outside ±5e9 never matches"
    );
    assert!(n(json!([">", 0]), json!([-1, 3])), "arrays: any element");
}

#[test]
fn cidr_v4_and_v6() {
    let c = |p: &str, ip: &str| matches(json!({"ip": [{"cidr": p}]}), json!({"ip": ip}));
    assert!(c("10.0.0.0/24", "10.0.0.255"));
    assert!(!c("10.0.0.0/24", "10.0.1.0"));
    assert!(c("0.0.0.0/0", "192.0.2.1"));
    assert!(c("10.0.0.6/31", "10.0.0.7"));
    // event-ruler's range starts at the address as written.
    assert!(c("10.0.0.1/24", "10.0.0.9"));
    assert!(!c("10.0.0.1/24", "10.0.0.0"));
    assert!(c("2001:db8::/32", "2001:db8:ffff::1"));
    assert!(!c("2001:db8::/32", "2001:db9::1"));
    assert!(!c("10.0.0.0/8", "::ffff:10.0.0.1"), "families do not mix");
    assert!(!c("10.0.0.0/8", "not an ip"));
}
