//! Logging to stderr through `tracing`, as text or JSON lines. Errors before logging
//! starts (bad flags, a broken configuration) are printed in the same format.

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// A log level or filter that cannot be used; `setting` is `--log-level` or `RUST_LOG`.
#[derive(Debug, thiserror::Error)]
pub enum LogFilterError {
    #[error(
        "{setting} {level:?}: not a level; use off, error, warn, info, debug or trace \
         (or a filter such as spp_ctl=debug)"
    )]
    NotALevel { setting: &'static str, level: String },
    #[error("{setting} {level:?}: {source}")]
    Invalid { setting: &'static str, level: String, source: tracing_subscriber::filter::ParseError },
}

/// Installs the global subscriber. `RUST_LOG` wins over `level` when set.
pub fn init(format: LogFormat, level: &str) -> Result<(), LogFilterError> {
    // A RUST_LOG the filter cannot read would otherwise be dropped in silence.
    let filter = match std::env::var("RUST_LOG") {
        Ok(env) if !env.is_empty() => filter("RUST_LOG", &env)?,
        _ => filter("--log-level", level)?,
    };
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    Ok(())
}

/// A level (`info`) or a filter with targets (`spp_ctl=debug,hyper=warn`). A bare word
/// that is no level is refused: the filter would read it as a target and log nothing.
fn filter(setting: &'static str, level: &str) -> Result<EnvFilter, LogFilterError> {
    let bare = !level.contains(['=', ',', '[']);
    if bare && level.parse::<LevelFilter>().is_err() {
        return Err(LogFilterError::NotALevel { setting, level: level.to_owned() });
    }
    EnvFilter::try_new(level).map_err(|source| LogFilterError::Invalid {
        setting,
        level: level.to_owned(),
        source,
    })
}

/// One error line on stderr before (or instead of) the subscriber, in `format`.
pub fn print_error(format: LogFormat, message: &str) {
    match format {
        LogFormat::Text => eprintln!("spp-ctl: {message}"),
        LogFormat::Json => {
            let line = serde_json::json!({
                "timestamp": humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string(),
                "level": "ERROR",
                "fields": { "message": message },
                "target": "spp_ctl",
            });
            eprintln!("{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn levels_and_filters_pass_and_unknown_words_do_not() {
        for good in ["info", "DEBUG", "off", "spp_ctl=debug", "warn,spp_ctl::gateway=trace"] {
            assert!(super::filter("--log-level", good).is_ok(), "{good}");
        }
        for bad in ["verbose", "debgu", "spp_ctl=loud"] {
            let error = super::filter("--log-level", bad).unwrap_err().to_string();
            assert!(error.starts_with(&format!("--log-level {bad:?}: ")), "{error}");
        }
    }
}
