//! Turning kubectl's connection flags into a `kube::Config`, the way kubectl resolves them.
//!
//! Precedence (client-go's loading rules): `--kubeconfig` alone; else every file in `KUBECONFIG`
//! merged, first one to set a key wins, missing files skipped; else `~/.kube/config`; else the
//! in-cluster service account. Then `--context`, `--cluster` and `--user` pick entries, `--namespace`
//! overrides the context's namespace, `--as`/`--as-group` impersonate.
//!
//! Exec credential plugins are run here, once, and their output is written into the user entry as a
//! token or client certificate: kube would otherwise run the plugin several times while building one
//! client (auth layer, TLS identity, expiry check), which triples start-up for `aws eks get-token`.
//! The price: a credential that expires during a very long run is not refreshed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use base64::Engine;
use kube::config::{AuthInfo, ExecConfig, KubeConfigOptions, Kubeconfig};
use serde_json::Value;

use super::kube::ConnectOptions;
use super::Error;

/// Loads the kubeconfig selected by `opts` and resolves it into a client config, with the name
/// of the context it chose (`in-cluster` without a kubeconfig), for error messages.
pub(crate) async fn load_config(opts: &ConnectOptions) -> Result<(kube::Config, String), Error> {
    let mut context = "in-cluster".to_string();
    let config = match read_kubeconfig(opts)? {
        Some(mut kc) => {
            context = opts
                .context
                .clone()
                .or_else(|| kc.current_context.clone())
                .unwrap_or_default();
            run_exec_plugin_once(&mut kc, opts).await?;
            let select =
                KubeConfigOptions { context: opts.context.clone(), cluster: opts.cluster.clone(), user: opts.user.clone() };
            kube::Config::from_custom_kubeconfig(kc, &select)
                .await
                .map_err(|e| Error::Config(format!("invalid kubeconfig: {e}")))?
        }
        None => kube::Config::incluster().map_err(|e| {
            Error::Config(format!(
                "no kubeconfig found (--kubeconfig and KUBECONFIG unset, no ~/.kube/config) and not running in a cluster: {e}"
            ))
        })?,
    };
    Ok((config, context))
}

/// The merged kubeconfig, or `None` when no file applies (then the in-cluster config is used).
fn read_kubeconfig(opts: &ConnectOptions) -> Result<Option<Kubeconfig>, Error> {
    if let Some(path) = &opts.kubeconfig {
        return read_file(path).map(Some);
    }
    let env: Option<OsString> = match &opts.kubeconfig_env {
        Some(v) => Some(v.clone()),
        None => std::env::var_os("KUBECONFIG"),
    };
    let paths: Vec<PathBuf> = env
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    if !paths.is_empty() {
        let mut merged: Option<Kubeconfig> = None;
        for p in paths.iter().filter(|p| p.exists()) {
            let next = read_file(p)?;
            merged = Some(match merged {
                None => next,
                Some(m) => m
                    .merge(next)
                    .map_err(|e| Error::Config(format!("merging {}: {e}", p.display())))?,
            });
        }
        return Ok(merged);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    match home.map(|h| h.join(".kube").join("config")) {
        Some(p) if p.exists() => read_file(&p).map(Some),
        _ => Ok(None),
    }
}

fn read_file(path: &Path) -> Result<Kubeconfig, Error> {
    Kubeconfig::read_from(path)
        .map_err(|e| Error::Config(format!("reading kubeconfig {}: {e}", path.display())))
}

/// The name of the user entry `opts` selects: `--user`, else the chosen context's user.
fn selected_user(kc: &Kubeconfig, opts: &ConnectOptions) -> Option<String> {
    if let Some(u) = &opts.user {
        return Some(u.clone());
    }
    let ctx_name = opts.context.clone().or_else(|| kc.current_context.clone())?;
    let ctx = kc.contexts.iter().find(|c| c.name == ctx_name)?;
    ctx.context.as_ref()?.user.clone()
}

async fn run_exec_plugin_once(kc: &mut Kubeconfig, opts: &ConnectOptions) -> Result<(), Error> {
    let Some(user) = selected_user(kc, opts) else {
        return Ok(());
    };
    let Some(entry) = kc.auth_infos.iter_mut().find(|a| a.name == user) else {
        return Ok(());
    };
    let Some(auth) = entry.auth_info.as_mut() else {
        return Ok(());
    };
    let Some(exec) = auth.exec.clone() else {
        return Ok(());
    };
    let status = tokio::task::spawn_blocking(move || run_plugin(&exec))
        .await
        .map_err(|e| Error::Config(format!("exec plugin: {e}")))??;
    apply_credential(auth, &status)
}

/// Runs the plugin and returns the `status` of the ExecCredential it printed.
fn run_plugin(exec: &ExecConfig) -> Result<Value, Error> {
    let command = exec
        .command
        .clone()
        .ok_or_else(|| Error::Config("exec plugin has no command".to_string()))?;
    let api_version = exec
        .api_version
        .clone()
        .unwrap_or_else(|| "client.authentication.k8s.io/v1".to_string());
    let info = serde_json::json!({
        "apiVersion": api_version,
        "kind": "ExecCredential",
        "spec": {"interactive": false},
    });
    let mut cmd = std::process::Command::new(&command);
    cmd.args(exec.args.iter().flatten())
        .env("KUBERNETES_EXEC_INFO", info.to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    for var in exec.env.iter().flatten() {
        if let (Some(name), Some(value)) = (var.get("name"), var.get("value")) {
            cmd.env(name, value);
        }
    }
    for name in exec.drop_env.iter().flatten() {
        cmd.env_remove(name);
    }
    let out = cmd.output().map_err(|e| {
        let hint = exec
            .install_hint
            .as_deref()
            .map(|h| format!("\n{h}"))
            .unwrap_or_default();
        Error::Config(format!("exec plugin {command}: {e}{hint}"))
    })?;
    if !out.status.success() {
        return Err(Error::Config(format!(
            "exec plugin {command} failed: {}",
            out.status
        )));
    }
    let cred: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| Error::Config(format!("exec plugin {command} printed no ExecCredential: {e}")))?;
    cred.get("status")
        .cloned()
        .ok_or_else(|| Error::Config(format!("exec plugin {command}: ExecCredential has no status")))
}

/// Writes the credential into the user entry in place of the exec stanza.
fn apply_credential(auth: &mut AuthInfo, status: &Value) -> Result<(), Error> {
    let s = |k: &str| status.get(k).and_then(Value::as_str).filter(|v| !v.is_empty());
    let b64 = |v: &str| base64::engine::general_purpose::STANDARD.encode(v);
    match (s("token"), s("clientCertificateData"), s("clientKeyData")) {
        (Some(token), _, _) => auth.token = Some(token.to_string().into()),
        (None, Some(cert), Some(key)) => {
            // Kubeconfig `*-data` fields hold base64 of the PEM text, ExecCredential holds the PEM.
            auth.client_certificate_data = Some(b64(cert));
            auth.client_key_data = Some(b64(key).into());
            auth.client_certificate = None;
            auth.client_key = None;
        }
        _ => {
            return Err(Error::Config(
                "exec plugin ExecCredential has neither a token nor clientCertificateData and clientKeyData"
                    .into(),
            ))
        }
    }
    auth.exec = None;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_replace_the_exec_stanza() {
        let cases = [
            ("token", serde_json::json!({"token": "abc"}), true, false),
            (
                "client cert",
                serde_json::json!({"clientCertificateData": "C", "clientKeyData": "K"}),
                false,
                true,
            ),
        ];
        for (name, status, want_token, want_cert) in cases {
            let mut auth = AuthInfo {
                exec: Some(ExecConfig::default()),
                ..AuthInfo::default()
            };
            apply_credential(&mut auth, &status).expect(name);
            assert!(auth.exec.is_none(), "{name}");
            assert_eq!(auth.token.is_some(), want_token, "{name}");
            assert_eq!(auth.client_certificate_data.is_some(), want_cert, "{name}");
        }
        let mut auth = AuthInfo::default();
        assert!(
            apply_credential(&mut auth, &serde_json::json!({})).is_err(),
            "empty status"
        );
    }
}
