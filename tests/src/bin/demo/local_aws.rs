//! The local-aws act: the real Network Firewall SDK client against the
//! emulator, including its optimistic-locking semantics.

use aws_sdk_networkfirewall::types::RuleGroupType;
use e2e_tests::demo::Demo;
use e2e_tests::local_cloud::{sdk_config_for, LocalCloud};

const RULES: &str = "pass tls $HOME_NET any -> $EXTERNAL_NET 443 (tls.sni; content:\"example.com\"; endswith; msg:\"demo\"; sid:1; rev:1;)";

pub async fn act(demo: &mut Demo, cloud: &LocalCloud) {
    demo.act("local-aws: Network Firewall rule group with update tokens");
    let nfw = aws_sdk_networkfirewall::Client::new(&sdk_config_for(&cloud.local_aws.url).await);
    let Some(token) = demo
        .step(
            "CreateRuleGroup demo-allow-list (capacity 100)",
            async {
                nfw.create_rule_group()
                    .rule_group_name("demo-allow-list")
                    .r#type(RuleGroupType::Stateful)
                    .capacity(100)
                    .rules(RULES)
                    .send()
                    .await
                    .map_err(|e| aws_sdk_networkfirewall::error::DisplayErrorContext(e).to_string())
            },
            |r| format!("token {}", r.update_token()),
        )
        .await
        .map(|r| r.update_token().to_string())
    else {
        return;
    };
    let update = |token: String| {
        nfw.update_rule_group()
            .rule_group_name("demo-allow-list")
            .r#type(RuleGroupType::Stateful)
            .update_token(token)
            .rules(format!("{RULES}\n{}", RULES.replace("sid:1", "sid:2")))
            .send()
    };
    demo.step(
        "UpdateRuleGroup with the current token",
        async { update(token.clone()).await.map_err(|e| e.to_string()) },
        |r| format!("new token {}", r.update_token()),
    )
    .await;
    demo.step(
        "UpdateRuleGroup with the stale token (must be rejected)",
        async {
            match update(token.clone()).await {
                Ok(_) => Err("a stale token was accepted".to_string()),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_invalid_token_exception()) =>
                {
                    Ok("InvalidTokenException".to_string())
                }
                Err(e) => Err(aws_sdk_networkfirewall::error::DisplayErrorContext(e).to_string()),
            }
        },
        |m| m.clone(),
    )
    .await;
}
