//! `spp-ctl token`: mints a signed JWT for the gateway (or an agent with auth on) from a
//! key file — for bootstrap, scripts and tests. Real deployments use an identity provider.

use anyhow::{Context, anyhow, bail};
use clap::Args;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// HMAC secret file (HS*) or PEM private key (RS*/PS*, ES*, EdDSA).
    #[arg(long, env = "SPP_CTL_TOKEN_KEY")]
    pub key: PathBuf,
    /// Signing algorithm, e.g. HS256, RS256, ES256, EdDSA.
    #[arg(long, default_value = "ES256")]
    pub alg: String,
    /// Subject (who the token is for).
    #[arg(long)]
    pub sub: String,
    /// Space-separated scopes: spp:read, spp:write, spp:admin.
    #[arg(long, default_value = "spp:read")]
    pub scope: String,
    /// Host names or glob patterns the token may reach (comma or space separated);
    /// absent means every host.
    #[arg(long)]
    pub hosts: Option<String>,
    /// Lifetime, e.g. 15m, 1h, 7d.
    #[arg(long, default_value = "1h")]
    pub ttl: String,
    /// Key id to put in the header (selects the key on the verifying side).
    #[arg(long)]
    pub kid: Option<String>,
    #[arg(long)]
    pub iss: Option<String>,
    #[arg(long)]
    pub aud: Option<String>,
}

/// The scopes the gateway and the agent grant anything for.
const KNOWN_SCOPES: [&str; 3] = ["spp:read", "spp:write", "spp:admin"];

/// `spp-ctl token`: the token on stdout, a warning on stderr for each unknown scope.
pub fn run(args: &TokenArgs) -> anyhow::Result<()> {
    let token = mint(args)?;
    for scope in unknown_scopes(&args.scope) {
        eprintln!("spp-ctl: warning: scope {scope:?} grants nothing (known: {})", KNOWN_SCOPES.join(", "));
    }
    println!("{token}");
    Ok(())
}

fn unknown_scopes(scope: &str) -> Vec<&str> {
    scope.split_whitespace().filter(|s| !KNOWN_SCOPES.contains(s)).collect()
}

/// The compact JWT for `args`.
pub fn mint(args: &TokenArgs) -> anyhow::Result<String> {
    let alg = crate::auth::keys::algorithm(&args.alg).map_err(|e| anyhow!(e))?;
    let ttl = humantime::parse_duration(&args.ttl).with_context(|| format!("--ttl {:?}", args.ttl))?;
    if ttl.as_secs() == 0 {
        bail!("--ttl {:?}: a token must live at least one second", args.ttl);
    }
    let material = std::fs::read(&args.key).with_context(|| format!("--key {}", args.key.display()))?;
    let key = encoding_key(alg, &material).map_err(|e| {
        anyhow!("--key {}: {}", args.key.display(), crate::auth::keys::explain(alg, &e, "private"))
    })?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(args.sub));
    claims.insert("scope".into(), json!(args.scope));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + ttl.as_secs()));
    if let Some(hosts) = &args.hosts {
        let list: Vec<&str> = hosts.split([',', ' ']).filter(|h| !h.is_empty()).collect();
        claims.insert("hosts".into(), json!(list));
    }
    for (name, value) in [("iss", &args.iss), ("aud", &args.aud)] {
        if let Some(value) = value {
            claims.insert(name.into(), json!(value));
        }
    }
    let mut header = Header::new(alg);
    header.kid = args.kid.clone();
    Ok(jsonwebtoken::encode(&header, &Value::Object(claims), &key)?)
}

fn encoding_key(alg: Algorithm, material: &[u8]) -> jsonwebtoken::errors::Result<EncodingKey> {
    Ok(match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            let secret = material.strip_suffix(b"\n").unwrap_or(material);
            EncodingKey::from_secret(secret)?
        }
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => EncodingKey::from_rsa_pem(material)?,
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(material)?,
        Algorithm::EdDSA => EncodingKey::from_ed_pem(material)?,
        _ => return Err(jsonwebtoken::errors::ErrorKind::InvalidAlgorithm.into()),
    })
}
