//! The client's config file (`$XDG_CONFIG_HOME/spp-ctl/config.toml`, else
//! `~/.config/spp-ctl/config.toml`, or `SPP_CTL_CONFIG`): named contexts, the current
//! one, and the `config` subcommands that edit them. `resolve` merges flags and
//! environment (already merged by clap, they win) over the chosen context.

use crate::client::args::{ClientArgs, ConfigAction, Output};
use crate::client::exit::Failure;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) current_context: Option<String>,
    #[serde(default)]
    pub(crate) contexts: BTreeMap<String, Context>,
}

/// One target: a gateway (with its default host) or an agent.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Context {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cacert: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) client_cert: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) client_key: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) token_file: Option<PathBuf>,
    /// The host behind the gateway when no -H is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) host: Option<String>,
}

/// Everything a request needs, flags over environment over context over defaults.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) server: String,
    pub(crate) host: Option<String>,
    pub(crate) output: Output,
    pub(crate) cacert: Option<PathBuf>,
    pub(crate) client_cert: Option<PathBuf>,
    pub(crate) client_key: Option<PathBuf>,
    pub(crate) token: Option<String>,
    pub(crate) timeout: Duration,
}

/// Without any server setting: the agent on this machine, as the SPP CLI assumes.
pub(crate) const DEFAULT_SERVER: &str = "http://127.0.0.1:7777";

/// The config file's path: `SPP_CTL_CONFIG`, `$XDG_CONFIG_HOME/spp-ctl/config.toml`, or
/// `$HOME/.config/spp-ctl/config.toml`.
pub(crate) fn path() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(file) = var("SPP_CTL_CONFIG") {
        return Some(file);
    }
    let base = var("XDG_CONFIG_HOME").or_else(|| var("HOME").map(|home| home.join(".config")))?;
    Some(base.join("spp-ctl").join("config.toml"))
}

impl ConfigFile {
    /// The file at `path`; a missing file is an empty configuration.
    pub(crate) fn load(path: &Path) -> Result<Self, Failure> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| Failure::local(format!("{}: {}", path.display(), e.message().trim_end()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigFile::default()),
            Err(e) => Err(Failure::local(format!("{}: {e}", path.display()))),
        }
    }

    fn save(&self, path: &Path) -> Result<(), Failure> {
        let text = toml::to_string(self).map_err(|e| Failure::local(e.to_string()))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Failure::local(format!("{}: {e}", dir.display())))?;
        }
        std::fs::write(path, text).map_err(|e| Failure::local(format!("{}: {e}", path.display())))
    }

    /// The context `name`, or the current one; `None` when neither is set.
    fn context(&self, name: Option<&str>) -> Result<Option<&Context>, Failure> {
        match name.or(self.current_context.as_deref()) {
            None => Ok(None),
            Some(name) => self.contexts.get(name).map(Some).ok_or_else(|| {
                let known: Vec<&str> = self.contexts.keys().map(String::as_str).collect();
                Failure::local(format!("context {name:?} not found (known: {})", known.join(", ")))
            }),
        }
    }
}

fn config_path() -> Result<PathBuf, Failure> {
    path().ok_or_else(|| Failure::local("no config file: set HOME, XDG_CONFIG_HOME or SPP_CTL_CONFIG"))
}

/// Flags and environment (clap has merged those) over the chosen context.
pub(crate) fn resolve(args: &ClientArgs) -> Result<Target, Failure> {
    let file = match path() {
        Some(path) => ConfigFile::load(&path)?,
        None => ConfigFile::default(),
    };
    let context = file.context(args.context.as_deref())?.cloned().unwrap_or_default();
    let token = match (&args.token, args.token_file.as_ref().or(context.token_file.as_ref())) {
        (Some(token), _) => Some(token.trim().to_owned()),
        (None, Some(file)) => Some(read_token(file)?),
        (None, None) => None,
    };
    let timeout = match &args.request_timeout {
        Some(raw) => humantime::parse_duration(raw)
            .map_err(|e| Failure::usage(format!("--request-timeout {raw:?}: {e}")))?,
        None => Duration::from_secs(30),
    };
    Ok(Target {
        server: args.server.clone().or(context.server).unwrap_or_else(|| DEFAULT_SERVER.to_owned()),
        // The context's host belongs to the context's server.
        host: args.host.clone().or(if args.server.is_none() { context.host } else { None }),
        output: args.output.unwrap_or(Output::Table),
        cacert: args.cacert.clone().or(context.cacert),
        client_cert: args.client_cert.clone().or(context.client_cert),
        client_key: args.client_key.clone().or(context.client_key),
        token,
        timeout,
    })
}

fn read_token(file: &Path) -> Result<String, Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::local(format!("token file {}: {e}", file.display())))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Failure::local(format!("token file {}: empty", file.display())));
    }
    Ok(token.to_owned())
}

/// `spp-ctl config ...`; `args` gives the values of `set-context`.
pub(crate) fn run(action: &ConfigAction, args: &ClientArgs) -> Result<(), Failure> {
    let path = config_path()?;
    let mut file = ConfigFile::load(&path)?;
    match action {
        ConfigAction::View => {
            eprintln!("# {}", path.display());
            print!("{}", toml::to_string(&file).map_err(|e| Failure::local(e.to_string()))?);
        }
        ConfigAction::GetContexts => {
            let mut rows = vec![["CURRENT", "NAME", "SERVER", "HOST"].map(str::to_owned).to_vec()];
            for (name, context) in &file.contexts {
                let current = if file.current_context.as_ref() == Some(name) { "*" } else { "" };
                let server = context.server.clone().unwrap_or_default();
                rows.push(vec![
                    current.to_owned(),
                    name.clone(),
                    server,
                    context.host.clone().unwrap_or_default(),
                ]);
            }
            print!("{}", crate::client::table::render(&rows));
        }
        ConfigAction::CurrentContext => match &file.current_context {
            Some(name) => println!("{name}"),
            None => return Err(Failure::local("no current context: spp-ctl config use-context NAME")),
        },
        ConfigAction::UseContext { name } => {
            file.context(Some(name))?;
            file.current_context = Some(name.clone());
            file.save(&path)?;
            println!("switched to context {name:?}");
        }
        ConfigAction::SetContext { name } => {
            let context = file.contexts.entry(name.clone()).or_default();
            let set = |value: &Option<PathBuf>, into: &mut Option<PathBuf>| {
                if let Some(value) = value {
                    *into = Some(std::path::absolute(value).unwrap_or_else(|_| value.clone()));
                }
            };
            set(&args.cacert, &mut context.cacert);
            set(&args.client_cert, &mut context.client_cert);
            set(&args.client_key, &mut context.client_key);
            set(&args.token_file, &mut context.token_file);
            if let Some(server) = &args.server {
                context.server = Some(server.clone());
            }
            if let Some(host) = &args.host {
                context.host = Some(host.clone());
            }
            if file.current_context.is_none() {
                file.current_context = Some(name.clone());
            }
            file.save(&path)?;
            println!("context {name:?} saved in {}", path.display());
        }
        ConfigAction::DeleteContext { name } => {
            if file.contexts.remove(name).is_none() {
                return Err(Failure::local(format!("context {name:?} not found")));
            }
            if file.current_context.as_ref() == Some(name) {
                file.current_context = None;
            }
            file.save(&path)?;
            println!("context {name:?} deleted");
        }
    }
    Ok(())
}
