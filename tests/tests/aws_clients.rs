//! The common crate's AWS client construction against moto: endpoint
//! overrides from the environment, S3 path-style, cross-account AssumeRole.

use common::aws::CrossAccount;
use e2e_tests::local_cloud::{LocalCloud, ACCOUNT_ID};

#[tokio::test]
async fn cross_account_role_acts_in_the_other_account() {
    let cloud = LocalCloud::start().await.unwrap();
    let base = cloud.moto_config().await;
    let roles = CrossAccount::new(base.clone(), "firewall-rule-collector");

    let spoke = roles
        .config_for("arn:aws:iam::111122223333:role/spoke-reader", Some("ext-1"))
        .await
        .unwrap();
    let sts = aws_sdk_sts::Client::new(&spoke);
    let who = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(who.account(), Some("111122223333"));
    assert!(
        who.arn()
            .unwrap()
            .contains("assumed-role/spoke-reader/firewall-rule-collector"),
        "{:?}",
        who.arn()
    );

    // Moto keeps separate state per account: a bucket made with the spoke's
    // credentials is not in the central account.
    let spoke_s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&spoke)
            .force_path_style(true)
            .build(),
    );
    spoke_s3
        .create_bucket()
        .bucket("spoke-config")
        .send()
        .await
        .unwrap();
    let central = cloud.s3().await.list_buckets().send().await.unwrap();
    assert!(central
        .buckets()
        .iter()
        .all(|b| b.name() != Some("spoke-config")));
    let own = aws_sdk_sts::Client::new(&base)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(own.account(), Some(ACCOUNT_ID));

    // The same role is assumed once and reused.
    let again = roles
        .config_for("arn:aws:iam::111122223333:role/spoke-reader", Some("ext-1"))
        .await
        .unwrap();
    assert_eq!(
        aws_sdk_sts::Client::new(&again)
            .get_caller_identity()
            .send()
            .await
            .unwrap()
            .account(),
        Some("111122223333")
    );

    let bad = roles
        .config_for("arn:aws:iam::1111:role/x", None)
        .await
        .unwrap_err();
    assert_eq!(bad.kind, "InvalidRoleArn");
}
