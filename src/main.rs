//! The `kuzet` binary: parse the command line, run it, map errors to an exit status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match kuzet::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // One line: clap's first line names the flag and the problem, unless it ends in
            // a colon and the flags follow on their own lines ("the following required
            // arguments were not provided:").
            let text = e.render().to_string();
            let mut lines = text.lines().filter(|l| !l.trim().is_empty());
            let mut first = lines
                .next()
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ")
                .to_string();
            if first.ends_with(':') {
                let more: Vec<&str> = lines
                    .take_while(|l| l.starts_with(' '))
                    .map(str::trim)
                    .collect();
                first = format!("{} {}", first, more.join(", "));
            }
            eprintln!("kuzet: {first}");
            return ExitCode::from(2);
        }
    };
    match kuzet::app::run(cli) {
        Ok(code) => code,
        Err(e) => {
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                let s = s.to_string();
                if !msg.contains(&s) {
                    msg.push_str(": ");
                    msg.push_str(&s);
                }
                src = s_source(src);
            }
            // Error text quotes files (names, fields, a library's messages): one line, no
            // control characters, whatever a hostile file holds.
            eprintln!("kuzet: error: {}", kuzet::units::one_line(&msg));
            ExitCode::from(e.exit_code())
        }
    }
}

fn s_source<'a>(
    e: Option<&'a (dyn std::error::Error + 'static)>,
) -> Option<&'a (dyn std::error::Error + 'static)> {
    e.and_then(|e| e.source())
}
