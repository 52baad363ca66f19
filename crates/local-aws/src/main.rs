//! `local-aws [--host 127.0.0.1] [--port 4567]`: serves the emulator until
//! Ctrl-C, for interactive use (`make local-cloud`).

use std::process::ExitCode;

const USAGE: &str = "usage: local-aws [--host HOST] [--port PORT]\n\
    Serves the local AWS emulator (default 127.0.0.1:4567) until Ctrl-C.\n\
    Log level: LOCAL_AWS_LOG=error|warn|info|debug|trace (default info).";

#[derive(Debug)]
struct Args {
    host: String,
    port: u16,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        host: "127.0.0.1".to_owned(),
        port: 4567,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg, None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--host" => parsed.host = value("--host")?,
            "--port" => {
                let port = value("--port")?;
                parsed.port = port.parse().map_err(|_| format!("invalid port {port:?}"))?;
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(parsed)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(problem) => {
            if !problem.is_empty() {
                eprintln!("local-aws: {problem}");
            }
            eprintln!("{USAGE}");
            return if problem.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let level = std::env::var("LOCAL_AWS_LOG")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(tracing::Level::INFO);
    // Logs go to stderr so stdout carries only the URL line scripts read.
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    let addr = format!("{}:{}", args.host, args.port);
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("local-aws: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let url = listener
        .local_addr()
        .map_or_else(|_| format!("http://{addr}"), |a| format!("http://{a}"));
    println!("local-aws listening on {url}");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match local_aws::serve_with_shutdown(listener, local_aws::LocalAws::new(), shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("local-aws: server error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        parse_args(args.iter().map(ToString::to_string))
    }

    #[test]
    fn defaults_and_both_flag_forms() {
        let args = parse(&[]).unwrap();
        assert_eq!((args.host.as_str(), args.port), ("127.0.0.1", 4567));
        let args = parse(&["--host", "0.0.0.0", "--port=0"]).unwrap();
        assert_eq!((args.host.as_str(), args.port), ("0.0.0.0", 0));
    }

    #[test]
    fn bad_arguments_are_reported() {
        assert!(parse(&["--port", "http"])
            .unwrap_err()
            .contains("invalid port"));
        assert!(parse(&["--port"]).unwrap_err().contains("needs a value"));
        assert!(parse(&["--verbose"])
            .unwrap_err()
            .contains("unknown argument"));
        assert_eq!(parse(&["--help"]).unwrap_err(), "");
    }
}
