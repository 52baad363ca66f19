//! The Confluent Schema Registry emulation over plain HTTP, as the registry's
//! REST clients (and the pipe-avro-enricher) call it: registration, lookups,
//! references, versions, deletes and schema validation.

mod sr_common;

use reqwest::Method;
use serde_json::{json, Value};
use sr_common::{
    assert_error, call, call_with, get, register, register_ok, start, ADDRESS, CUSTOMER, EVENT_V1,
    EVENT_V2,
};

#[tokio::test]
async fn registration_is_idempotent_and_ids_are_global() {
    let aws = start().await;
    let url = &aws.url;
    let (status, content_type, first) = call_with(
        url,
        Method::POST,
        "/subjects/events-value/versions",
        Some(&json!({ "schema": EVENT_V1, "schemaType": "AVRO", "references": [] })),
        None,
    )
    .await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "application/vnd.schemaregistry.v1+json")
    );
    assert_eq!(
        (first["id"].clone(), first["version"].clone()),
        (json!(1), json!(1))
    );
    let guid = first["guid"].as_str().expect("guid returned");
    assert!(
        uuid::Uuid::parse_str(guid).is_ok_and(|u| u.get_version_num() == 4),
        "{guid}"
    );

    // Same text again, and the same schema spelled differently.
    assert_eq!(register_ok(url, "events-value", EVENT_V1).await, first);
    let respaced = EVENT_V1.replace(',', ", ").replace(':', ": ");
    assert_eq!(register_ok(url, "events-value", &respaced).await["id"], 1);
    // Another subject reuses the global id but starts its own versions.
    let other = register_ok(url, "audit-value", EVENT_V1).await;
    assert_eq!(
        (
            other["id"].clone(),
            other["version"].clone(),
            other["guid"].clone()
        ),
        (json!(1), json!(1), json!(guid))
    );
    // A new schema gets the next id and the subject's next version.
    let v2 = register_ok(url, "events-value", EVENT_V2).await;
    assert_eq!(
        (v2["id"].clone(), v2["version"].clone()),
        (json!(2), json!(2))
    );
    assert_ne!(v2["guid"], json!(guid));

    assert_eq!(
        get(url, "/subjects").await,
        (200, json!(["audit-value", "events-value"]))
    );
    assert_eq!(
        get(url, "/subjects?subjectPrefix=ev").await.1,
        json!(["events-value"])
    );
    assert_eq!(
        get(url, "/subjects/events-value/versions").await,
        (200, json!([1, 2]))
    );
    assert_eq!(
        get(url, "/schemas/ids/1/subjects").await.1,
        json!(["audit-value", "events-value"])
    );
    assert_eq!(
        get(url, "/schemas/ids/2/versions").await.1,
        json!([{"subject": "events-value", "version": 2}])
    );
}

#[tokio::test]
async fn schemas_resolve_by_id_and_guid_in_the_registry_shape() {
    let aws = start().await;
    let url = &aws.url;
    let guid = register_ok(url, "events-value", EVENT_V1).await["guid"].clone();
    let (status, by_id) = get(url, "/schemas/ids/1").await;
    assert_eq!(status, 200);
    // AVRO is the default: no schemaType, and no empty references list.
    assert_eq!(by_id, json!({ "schema": EVENT_V1, "guid": guid }));
    for query in ["?subject=events-value", "?format=resolved", "?deleted=true"] {
        assert_eq!(
            get(url, &format!("/schemas/ids/1{query}")).await,
            (200, by_id.clone())
        );
    }
    assert_eq!(
        get(url, &format!("/schemas/guids/{}", guid.as_str().unwrap())).await,
        (200, by_id)
    );

    let json_schema = r#"{"type":"object","properties":{"id":{"type":"integer"}}}"#;
    let (status, body) = register(
        url,
        "json-value",
        json!({"schema": json_schema, "schemaType": "JSON"}),
    )
    .await;
    assert_eq!((status, body["id"].clone()), (200, json!(2)), "{body}");
    assert_eq!(get(url, "/schemas/ids/2").await.1["schemaType"], "JSON");

    let (status, body) = get(url, "/schemas/ids/99").await;
    assert_error(status, &body, 404, 40403);
    let (status, body) = get(url, &format!("/schemas/guids/{}", uuid::Uuid::new_v4())).await;
    assert_error(status, &body, 404, 40403);
    // Not an integer: the real server has no such route.
    let (status, body) = get(url, "/schemas/ids/abc").await;
    assert_error(status, &body, 404, 404);
    assert_eq!(
        get(url, "/schemas/types").await.1,
        json!(["JSON", "PROTOBUF", "AVRO"])
    );
}

#[tokio::test]
async fn references_are_stored_returned_and_checked() {
    let aws = start().await;
    let url = &aws.url;
    register_ok(url, "address", ADDRESS).await;
    let reference = json!([{"name": "com.acme.Address", "subject": "address", "version": 1}]);

    // Without its reference the schema names an undefined type.
    let (status, body) = register(url, "customer", json!({"schema": CUSTOMER})).await;
    assert_error(status, &body, 422, 42201);
    assert!(
        body["message"].as_str().unwrap().contains("Address"),
        "{body}"
    );
    let missing = json!([{"name": "com.acme.Address", "subject": "address", "version": 9}]);
    let (status, body) = register(
        url,
        "customer",
        json!({"schema": CUSTOMER, "references": missing}),
    )
    .await;
    assert_error(status, &body, 422, 42201);

    let (status, body) = register(
        url,
        "customer",
        json!({"schema": CUSTOMER, "references": reference}),
    )
    .await;
    assert_eq!((status, body["id"].clone()), (200, json!(2)), "{body}");
    assert_eq!(get(url, "/schemas/ids/2").await.1["references"], reference);
    let (_, latest) = get(url, "/subjects/customer/versions/latest").await;
    assert_eq!(latest["references"], reference);
    assert_eq!(latest["schema"], CUSTOMER);
    // The referenced version is what a deserializer fetches to resolve it.
    let (status, address) = get(url, "/subjects/address/versions/1?deleted=true").await;
    assert_eq!((status, address["schema"].as_str()), (200, Some(ADDRESS)));
    // Same text, other references: a different schema.
    let (status, body) = register(
        url,
        "customer",
        json!({"schema": CUSTOMER, "references": reference}),
    )
    .await;
    assert_eq!((status, body["version"].clone()), (200, json!(1)));

    // A schema still in use cannot lose its reference target.
    let (status, body) = call(url, Method::DELETE, "/subjects/address", None).await;
    assert_error(status, &body, 422, 42206);
    let (status, body) = call(url, Method::DELETE, "/subjects/address/versions/1", None).await;
    assert_error(status, &body, 422, 42206);
}

#[tokio::test]
async fn versions_latest_and_lookup() {
    let aws = start().await;
    let url = &aws.url;
    register_ok(url, "events-value", EVENT_V1).await;
    register_ok(url, "events-value", EVENT_V2).await;

    let (status, v1) = get(url, "/subjects/events-value/versions/1").await;
    assert_eq!(status, 200);
    assert_eq!(v1["subject"], "events-value");
    assert_eq!(
        (
            v1["version"].clone(),
            v1["id"].clone(),
            v1["schema"].clone()
        ),
        (json!(1), json!(1), json!(EVENT_V1))
    );
    assert!(
        v1.get("schemaType").is_none() && v1.get("references").is_none(),
        "{v1}"
    );
    for latest in ["latest", "-1"] {
        let (_, body) = get(url, &format!("/subjects/events-value/versions/{latest}")).await;
        assert_eq!(
            (body["version"].clone(), body["id"].clone()),
            (json!(2), json!(2))
        );
    }
    let (status, body) = get(url, "/subjects/events-value/versions/3").await;
    assert_error(status, &body, 404, 40402);
    for bad in ["0", "abc", "-2", "99999999999"] {
        let (status, body) = get(url, &format!("/subjects/events-value/versions/{bad}")).await;
        assert_error(status, &body, 422, 42202);
    }
    let (status, body) = get(url, "/subjects/nope/versions/latest").await;
    assert_error(status, &body, 404, 40401);
    let (status, body) = get(url, "/subjects/nope/versions").await;
    assert_error(status, &body, 404, 40401);

    let lookup = |subject: &str, schema: &str| {
        let body = json!({ "schema": schema });
        let path = format!("/subjects/{subject}?normalize=False&deleted=False");
        async move { call(url, Method::POST, &path, Some(&body)).await }
    };
    let (status, found) = lookup("events-value", EVENT_V1).await;
    assert_eq!(status, 200);
    assert_eq!(found, v1);
    let (status, body) = lookup("events-value", ADDRESS).await;
    assert_error(status, &body, 404, 40403);
    let (status, body) = lookup("nope", EVENT_V1).await;
    assert_error(status, &body, 404, 40401);
}

#[tokio::test]
async fn soft_delete_keeps_ids_resolvable_until_a_permanent_delete() {
    let aws = start().await;
    let url = &aws.url;
    register_ok(url, "events-value", EVENT_V1).await;
    register_ok(url, "events-value", EVENT_V2).await;

    let (status, body) = call(
        url,
        Method::DELETE,
        "/subjects/events-value?permanent=true",
        None,
    )
    .await;
    assert_error(status, &body, 404, 40405);
    assert_eq!(
        call(url, Method::DELETE, "/subjects/events-value", None).await,
        (200, json!([1, 2]))
    );
    let (status, body) = call(url, Method::DELETE, "/subjects/events-value", None).await;
    assert_error(status, &body, 404, 40404);

    assert_eq!(get(url, "/subjects").await.1, json!([]));
    assert_eq!(
        get(url, "/subjects?deleted=true").await.1,
        json!(["events-value"])
    );
    let (status, body) = get(url, "/subjects/events-value/versions").await;
    assert_error(status, &body, 404, 40401);
    assert_eq!(
        get(url, "/subjects/events-value/versions?deleted=true")
            .await
            .1,
        json!([1, 2])
    );
    let (status, body) = get(url, "/subjects/events-value/versions/1").await;
    assert_error(status, &body, 404, 40401);
    assert_eq!(
        get(url, "/subjects/events-value/versions/1?deleted=true")
            .await
            .1["id"],
        1
    );
    // Old records stay decodable: ids and GUIDs still resolve.
    for path in [
        "/schemas/ids/1",
        "/schemas/ids/1?deleted=true",
        "/schemas/ids/2",
    ] {
        assert_eq!(get(url, path).await.0, 200, "{path}");
    }
    // Re-registering continues the version sequence with the same id.
    let again = register_ok(url, "events-value", EVENT_V1).await;
    assert_eq!(
        (again["id"].clone(), again["version"].clone()),
        (json!(1), json!(3))
    );

    // Version-level delete: soft, then permanent.
    let (status, body) = call(
        url,
        Method::DELETE,
        "/subjects/events-value/versions/3?permanent=true",
        None,
    )
    .await;
    assert_error(status, &body, 404, 40407);
    assert_eq!(
        call(
            url,
            Method::DELETE,
            "/subjects/events-value/versions/3",
            None
        )
        .await,
        (200, json!(3))
    );
    let (status, body) = call(
        url,
        Method::DELETE,
        "/subjects/events-value/versions/3",
        None,
    )
    .await;
    assert_error(status, &body, 404, 40406);
    let permanent = "/subjects/events-value?permanent=true";
    assert_eq!(
        call(url, Method::DELETE, permanent, None).await,
        (200, json!([1, 2, 3]))
    );
    // Nothing holds the schemas any more.
    let (status, body) = get(url, "/schemas/ids/1").await;
    assert_error(status, &body, 404, 40403);
    let (status, body) = call(url, Method::DELETE, "/subjects/events-value", None).await;
    assert_error(status, &body, 404, 40401);
}

#[tokio::test]
async fn invalid_schemas_are_422_42201() {
    let aws = start().await;
    let url = &aws.url;
    let cases = [
        json!({"schema": "{not json"}),
        json!({"schema": r#"{"type":"record","name":"X"}"#}),
        json!({"schema": r#"{"type":"enum","name":"E","symbols":["A","A"]}"#}),
        json!({"schema": r#""strin""#}),
        json!({"schema": ""}),
        json!({}),
        json!({"schema": EVENT_V1, "schemaType": "XML"}),
        json!({"schema": "[1,2]", "schemaType": "JSON"}),
    ];
    for case in cases {
        let (status, body) = register(url, "bad", case.clone()).await;
        assert_eq!(body["error_code"], 42201, "{case}: {body}");
        assert_eq!(status, 422, "{case}");
    }
    assert_eq!(
        get(url, "/subjects").await.1,
        json!([]),
        "nothing was stored"
    );
    // A malformed body is a plain 400.
    let response = reqwest::Client::new()
        .post(format!("{url}/subjects/bad/versions"))
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(response.json::<Value>().await.unwrap()["error_code"], 400);
}
