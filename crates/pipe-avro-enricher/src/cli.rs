//! `pipe-avro-enricher decode`: the same decoding offline, for debugging a
//! failing pipe. Reads a Pipes batch (JSON array) on stdin, prints the output
//! array on stdout and one JSON line per failed record on stderr. Exit code 0
//! when every record decoded, 1 when any failed, 2 for usage or
//! configuration errors, 3 when a registry could not be reached.

use std::io::{Read, Write};

use common::config::Env;
use serde_json::{json, Value};

use crate::config::EnricherConfig;

const USAGE: &str = "usage: pipe-avro-enricher decode [--max-output-records N] < batch.json";

/// Runs the command named by `args` (without the program name).
pub async fn main(args: &[String]) -> i32 {
    match run(args).await {
        Ok(code) => code,
        Err((code, message)) => {
            eprintln!("{message}");
            code
        }
    }
}

async fn run(args: &[String]) -> Result<i32, (i32, String)> {
    let mut max_output_records = None;
    match args {
        [cmd] if cmd == "decode" => {}
        [cmd, flag, n] if cmd == "decode" && flag == "--max-output-records" => {
            max_output_records = Some(n.parse::<usize>().ok().filter(|n| *n > 0).ok_or((
                2,
                format!("--max-output-records {n:?} is not a positive integer\n{USAGE}"),
            ))?);
        }
        _ => return Err((2, USAGE.to_string())),
    }
    let mut env = Env::from_process();
    let config = EnricherConfig::from_env(&mut env);
    let mut config = env.finish(config).map_err(|e| (2, e.to_string()))?;
    if let Some(n) = max_output_records {
        config.max_output_records = n;
    }
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| (2, format!("reading stdin: {e}")))?;
    let records: Vec<Value> = serde_json::from_str(&input).map_err(|e| {
        (
            2,
            format!("stdin is not a JSON array of Pipes records: {e}"),
        )
    })?;

    let aws = common::aws::sdk_config().await;
    let enricher = crate::adapters::connect(&config, &aws)
        .await
        .map_err(|e| (2, e))?;
    let outcome = enricher.enrich(records).await.map_err(|e| (3, e))?;

    let mut stdout = std::io::stdout().lock();
    let text = serde_json::to_string_pretty(&outcome.output).map_err(|e| (2, e.to_string()))?;
    let _ = writeln!(stdout, "{text}");
    let mut stderr = std::io::stderr().lock();
    for letter in &outcome.dead_letters {
        let line = json!({
            "kind": letter.kind.as_str(),
            "message": letter.message,
            "partition": letter.partition,
            "offset": letter.offset,
        });
        let _ = writeln!(stderr, "{line}");
    }
    Ok(i32::from(!outcome.dead_letters.is_empty()))
}
