//! The placeholder act: `hello` writes a greeting to S3 (moto).

use e2e_tests::demo::Demo;
use e2e_tests::local_cloud::LocalCloud;
use e2e_tests::runtime_api::FunctionProcess;
use e2e_tests::workspace::{event, function_binary};
use std::time::Duration;

pub async fn act(demo: &mut Demo, cloud: &LocalCloud) {
    demo.act("hello (placeholder): EventBridge event -> greeting object in S3");
    let s3 = cloud.s3().await;
    demo.step(
        "create bucket greetings (moto)",
        async { s3.create_bucket().bucket("greetings").send().await },
        |_| String::new(),
    )
    .await;
    let mut env = cloud.function_env();
    env.push(("GREETING_BUCKET".into(), "greetings".into()));
    let Some(function) = demo
        .step(
            "start the hello binary under the local Runtime API",
            async {
                let f = FunctionProcess::spawn(&function_binary("hello"), "hello", &env).await?;
                let init = f.wait_ready(Duration::from_secs(20)).await?;
                Ok::<_, e2e_tests::runtime_api::HarnessError>((f, init))
            },
            |(_, init)| format!("init {} ms", init.as_millis()),
        )
        .await
        .map(|(f, _)| f)
    else {
        return;
    };
    demo.step(
        "invoke events/hello/greeting.json",
        async {
            let out = function
                .invoke(&event("hello", "greeting"))
                .await
                .map_err(|e| e.to_string())?;
            out.success().cloned().ok_or_else(|| format!("{out:?}"))
        },
        |r| {
            format!(
                "{} -> s3://greetings/{}",
                r["greeting"],
                r["key"].as_str().unwrap_or_default()
            )
        },
    )
    .await;
    demo.step(
        "invoke events/hello/invalid-name.json (must be rejected)",
        async {
            let out = function
                .invoke(&event("hello", "invalid-name"))
                .await
                .map_err(|e| e.to_string())?;
            match out.error() {
                Some((kind, message)) => Ok(format!("{kind}: {message}")),
                None => Err("an empty name was accepted".to_string()),
            }
        },
        |m| m.clone(),
    )
    .await;
}
