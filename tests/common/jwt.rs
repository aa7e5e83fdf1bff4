//! An HS256 token issuer made at test time: its `[auth]` section for a gateway or an
//! agent's `--auth-config`, and tokens with chosen subject, scope, hosts and key id.

use spp_ctl::token::{TokenArgs, mint};
use std::path::PathBuf;

pub struct Issuer {
    dir: tempfile::TempDir,
}

impl Issuer {
    pub fn new() -> Self {
        let issuer = Issuer { dir: tempfile::tempdir().expect("temp dir") };
        std::fs::write(issuer.secret(), "a test secret of thirty-two bytes!").expect("write secret");
        issuer
    }

    fn secret(&self) -> PathBuf {
        self.dir.path().join("hs.secret")
    }

    /// The `[auth]` section accepting this issuer's tokens (key id `hs`).
    pub fn auth_toml(&self) -> String {
        format!(
            "[auth]\nmode = \"jwt\"\n[[auth.keys]]\nkid = \"hs\"\nalg = \"HS256\"\nsecret_file = \"{}\"\n",
            self.secret().display()
        )
    }

    /// The agent's `AuthConfig`, read the way `--auth-config` reads it.
    pub fn agent_auth(&self) -> spp_ctl::auth::AuthConfig {
        let file = self.dir.path().join("auth.toml");
        std::fs::write(&file, self.auth_toml()).expect("write auth config");
        spp_ctl::agent::config::auth_section(&file).expect("valid auth config")
    }

    /// A token for `sub` with `scope`, limited to `hosts` (comma-separated) if given.
    pub fn token(&self, sub: &str, scope: &str, hosts: Option<&str>) -> String {
        self.token_with_kid(sub, scope, hosts, "hs")
    }

    pub fn token_with_kid(&self, sub: &str, scope: &str, hosts: Option<&str>, kid: &str) -> String {
        mint(&TokenArgs {
            key: self.secret(),
            alg: "HS256".into(),
            sub: sub.into(),
            scope: scope.into(),
            hosts: hosts.map(str::to_owned),
            ttl: "5m".into(),
            kid: Some(kid.into()),
            iss: None,
            aud: None,
        })
        .expect("token minted")
    }
}
