//! `/healthz`, `/livez` and `/readyz`: upstream's named checks (`ping`, `log`, `etcd`,
//! `etcd-readiness`, `informer-sync`, one `poststarthook/<name>` per post-start hook,
//! `shutdown`), its `?verbose` and `?exclude=` handling, its individual `/<kind>/<check>`
//! paths and its exact bodies. The checks answer before etcd does: until the storage is
//! connected, `etcd` fails with upstream's "etcd client connection not yet established".

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse};
use tokio::sync::watch;

use crate::AppState;

/// What upstream's etcd check says until the first connection to etcd succeeds.
pub const ETCD_NOT_CONNECTED: &str = "etcd client connection not yet established";

/// How long the `etcd` check waits for etcd (upstream's default health-check timeout).
const ETCD_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The state behind the health checks that exists from the moment the port is bound: the
/// etcd connection's progress, each post-start hook's completion, readiness and shutdown.
pub struct Health {
    /// The last error connecting to etcd; None once connected.
    etcd_error: Mutex<Option<String>>,
    /// Post-start hooks in registration order (the order `?verbose` lists them in).
    hooks: Vec<Hook>,
    shutting_down: AtomicBool,
    /// True once etcd is connected, the cache loaded and every hook has finished once.
    ready: watch::Sender<bool>,
}

struct Hook {
    name: &'static str,
    done: AtomicBool,
}

impl Health {
    pub fn new(hooks: &[&'static str]) -> Self {
        Health {
            etcd_error: Mutex::new(Some(ETCD_NOT_CONNECTED.to_string())),
            hooks: hooks
                .iter()
                .map(|name| Hook {
                    name,
                    done: AtomicBool::new(false),
                })
                .collect(),
            shutting_down: AtomicBool::new(false),
            ready: watch::channel(false).0,
        }
    }

    /// Records a failed attempt to connect to etcd (shown by `/readyz/etcd`).
    pub fn etcd_failed(&self, error: String) {
        *self.etcd_error.lock().expect("health lock poisoned") = Some(error);
    }

    pub fn etcd_connected(&self) {
        *self.etcd_error.lock().expect("health lock poisoned") = None;
    }

    fn etcd_error(&self) -> Option<String> {
        self.etcd_error
            .lock()
            .expect("health lock poisoned")
            .clone()
    }

    /// Marks the post-start hook `name` finished.
    pub fn hook_done(&self, name: &str) {
        if let Some(h) = self.hooks.iter().find(|h| h.name == name) {
            h.done.store(true, Ordering::SeqCst);
        }
    }

    pub fn hook_finished(&self, name: &str) -> bool {
        self.hooks
            .iter()
            .any(|h| h.name == name && h.done.load(Ordering::SeqCst))
    }

    /// From now on `/readyz` fails its `shutdown` check, so load balancers stop sending.
    pub fn shutting_down(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    pub fn set_ready(&self) {
        self.ready.send_replace(true);
    }

    /// Waits until the server is ready; an error naming what is missing after `timeout`.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<(), String> {
        let mut rx = self.ready.subscribe();
        let wait = async {
            loop {
                if *rx.borrow_and_update() {
                    return Ok(());
                }
                if rx.changed().await.is_err() {
                    return Err("the server stopped".to_string());
                }
            }
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(r) => r,
            Err(_) => Err(match self.etcd_error() {
                Some(e) => format!("not ready within {timeout:?}: etcd: {e}"),
                None => format!(
                    "not ready within {timeout:?}: waiting for {}",
                    self.hooks
                        .iter()
                        .filter(|h| !h.done.load(Ordering::SeqCst))
                        .map(|h| format!("poststarthook/{}", h.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        }
    }
}

/// One named check of one endpoint.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Check {
    Ping,
    Log,
    Etcd,
    EtcdReadiness,
    InformerSync,
    PostStartHook(&'static str),
    Shutdown,
}

impl Check {
    fn name(&self) -> String {
        match self {
            Check::Ping => "ping".into(),
            Check::Log => "log".into(),
            Check::Etcd => "etcd".into(),
            Check::EtcdReadiness => "etcd-readiness".into(),
            Check::InformerSync => "informer-sync".into(),
            Check::PostStartHook(n) => format!("poststarthook/{n}"),
            Check::Shutdown => "shutdown".into(),
        }
    }
}

/// The checks of `/healthz`, `/livez` or `/readyz`, in upstream's order. Liveness includes
/// `etcd` and the post-start hooks as upstream's does (they are health checks and boot
/// sequence checks there); readiness adds `etcd-readiness`, `informer-sync` and `shutdown`.
fn checks(health: &Health, kind: &str) -> Vec<Check> {
    let mut out = vec![Check::Ping, Check::Log, Check::Etcd];
    if kind == "readyz" {
        out.push(Check::EtcdReadiness);
        out.push(Check::InformerSync);
    }
    out.extend(health.hooks.iter().map(|h| Check::PostStartHook(h.name)));
    if kind == "readyz" {
        out.push(Check::Shutdown);
    }
    out
}

/// Evaluates checks, asking etcd at most once per request however many checks need it.
struct Evaluator<'a> {
    health: &'a Health,
    state: Option<&'a AppState>,
    etcd: Option<Result<(), String>>,
}

impl Evaluator<'_> {
    async fn run(&mut self, check: Check) -> Result<(), String> {
        match check {
            Check::Ping | Check::Log => Ok(()),
            Check::Etcd | Check::EtcdReadiness => {
                if let Some(r) = &self.etcd {
                    return r.clone();
                }
                let r = match (self.health.etcd_error(), self.state) {
                    (Some(e), _) => Err(e),
                    (None, Some(st)) => st.storage.healthy(ETCD_CHECK_TIMEOUT).await,
                    (None, None) => Err(ETCD_NOT_CONNECTED.to_string()),
                };
                self.etcd = Some(r.clone());
                r
            }
            Check::InformerSync => match self.state {
                Some(st) => st.cache.synced(),
                None => Err("the watch cache has not loaded its initial list yet".to_string()),
            },
            Check::PostStartHook(name) => {
                if self.health.hook_finished(name) {
                    Ok(())
                } else {
                    Err("not finished".to_string())
                }
            }
            Check::Shutdown => {
                if self.health.shutting_down.load(Ordering::SeqCst) {
                    Err("process is shutting down".to_string())
                } else {
                    Ok(())
                }
            }
        }
    }
}

fn text(code: u16, body: String) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(code).expect("a valid status code"))
        .content_type("text/plain; charset=utf-8")
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(body)
}

/// Serves `/<kind>` and `/<kind>/<check>`; `state` is None until etcd is connected.
pub async fn serve(
    health: &Health,
    state: Option<&AppState>,
    req: &HttpRequest,
    kind: &str,
) -> HttpResponse {
    let all = checks(health, kind);
    let mut eval = Evaluator {
        health,
        state,
        etcd: None,
    };
    let only = req
        .path()
        .trim_start_matches('/')
        .split_once('/')
        .map(|(_, c)| c.to_string());
    if let Some(name) = only {
        // Go's `http.Error` ends its body with a newline; a passing check says just `ok`.
        return match all.iter().find(|c| c.name() == name) {
            Some(c) => match eval.run(*c).await {
                Ok(()) => text(200, "ok".into()),
                Err(e) => text(500, format!("internal server error: {e}\n")),
            },
            None => text(404, "404 page not found\n".into()),
        };
    }
    let query = crate::request::Query::parse(req.query_string()).ok();
    let verbose = req
        .query_string()
        .split('&')
        .any(|p| p == "verbose" || p.starts_with("verbose="));
    let mut excluded: Vec<String> = query
        .as_ref()
        .map(|q| {
            q.pairs
                .iter()
                .filter(|(k, _)| k == "exclude")
                .map(|(_, v)| v.clone())
                .collect()
        })
        .unwrap_or_default();
    let mut body = String::new();
    let mut failed = Vec::new();
    for c in &all {
        let name = c.name();
        if let Some(i) = excluded.iter().position(|e| *e == name) {
            excluded.remove(i);
            body.push_str(&format!("[+]{name} excluded: ok\n"));
            continue;
        }
        match eval.run(*c).await {
            Ok(()) => body.push_str(&format!("[+]{name} ok\n")),
            // The reason is withheld because these endpoints are public; the log has it.
            Err(e) => {
                body.push_str(&format!("[-]{name} failed: reason withheld\n"));
                failed.push((name, e));
            }
        }
    }
    if !excluded.is_empty() {
        excluded.sort();
        excluded.dedup();
        let quoted: Vec<String> = excluded.iter().map(|e| format!("{e:?}")).collect();
        body.push_str(&format!(
            "warn: some health checks cannot be excluded: no matches for {}\n",
            quoted.join(",")
        ));
    }
    if !failed.is_empty() {
        let detail: Vec<String> = failed.iter().map(|(n, e)| format!("{n}: {e}")).collect();
        tracing::debug!(checks = %detail.join("; "), "{kind} check failed");
        return text(500, format!("{body}{kind} check failed\n"));
    }
    if !verbose {
        return text(200, "ok".into());
    }
    text(200, format!("{body}{kind} check passed\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;
    use actix_web::test::TestRequest;

    async fn get(health: &Health, uri: &str) -> (u16, String) {
        let req = TestRequest::get().uri(uri).to_http_request();
        let kind = uri
            .trim_start_matches('/')
            .split(['/', '?'])
            .next()
            .unwrap()
            .to_string();
        let resp = serve(health, None, &req, &kind).await;
        let code = resp.status().as_u16();
        let body = resp.into_body().try_into_bytes().unwrap();
        (code, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn before_etcd_answers_every_endpoint_fails_its_etcd_check_in_upstreams_words() {
        let h = Health::new(&["start-system-namespaces-controller", "bootstrap-controller"]);
        let (code, body) = get(&h, "/livez").await;
        assert_eq!(code, 500);
        assert_eq!(
            body,
            "[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\n\
             [-]poststarthook/start-system-namespaces-controller failed: reason withheld\n\
             [-]poststarthook/bootstrap-controller failed: reason withheld\n\
             livez check failed\n"
        );
        let (code, body) = get(&h, "/readyz/etcd").await;
        assert_eq!(code, 500);
        assert_eq!(
            body,
            "internal server error: etcd client connection not yet established\n"
        );
        h.etcd_failed("dial tcp 127.0.0.1:1: connect: connection refused".into());
        let (_, body) = get(&h, "/readyz/etcd-readiness").await;
        assert!(body.contains("connection refused"), "{body}");
        let (code, body) = get(&h, "/readyz/poststarthook/bootstrap-controller").await;
        assert_eq!(
            (code, body.as_str()),
            (500, "internal server error: not finished\n")
        );
        let (code, body) = get(&h, "/readyz/nope").await;
        assert_eq!((code, body.as_str()), (404, "404 page not found\n"));
    }

    #[tokio::test]
    async fn hooks_pass_once_done_and_exclusions_read_like_upstream() {
        let h = Health::new(&["bootstrap-controller"]);
        h.hook_done("bootstrap-controller");
        let (code, body) = get(&h, "/livez/poststarthook/bootstrap-controller").await;
        assert_eq!((code, body.as_str()), (200, "ok"));
        let (code, body) = get(&h, "/livez?exclude=etcd&exclude=nope&verbose").await;
        assert_eq!(code, 200);
        assert_eq!(
            body,
            "[+]ping ok\n[+]log ok\n[+]etcd excluded: ok\n\
             [+]poststarthook/bootstrap-controller ok\n\
             warn: some health checks cannot be excluded: no matches for \"nope\"\n\
             livez check passed\n"
        );
        let (code, body) = get(&h, "/livez?exclude=etcd").await;
        assert_eq!((code, body.as_str()), (200, "ok"));
    }

    #[tokio::test]
    async fn readiness_lists_its_own_checks_and_fails_on_shutdown() {
        let h = Health::new(&["bootstrap-controller"]);
        h.hook_done("bootstrap-controller");
        let (_, body) = get(
            &h,
            "/readyz?verbose&exclude=etcd&exclude=etcd-readiness&exclude=informer-sync",
        )
        .await;
        assert_eq!(
            body,
            "[+]ping ok\n[+]log ok\n[+]etcd excluded: ok\n[+]etcd-readiness excluded: ok\n\
             [+]informer-sync excluded: ok\n[+]poststarthook/bootstrap-controller ok\n\
             [+]shutdown ok\nreadyz check passed\n"
        );
        h.shutting_down();
        let (code, body) = get(&h, "/readyz/shutdown").await;
        assert_eq!(
            (code, body.as_str()),
            (500, "internal server error: process is shutting down\n")
        );
    }

    #[tokio::test]
    async fn waiting_for_readiness_names_what_is_missing() {
        let h = Health::new(&["bootstrap-controller"]);
        h.etcd_connected();
        let e = h.wait_ready(Duration::from_millis(20)).await.unwrap_err();
        assert!(e.contains("poststarthook/bootstrap-controller"), "{e}");
        h.set_ready();
        h.wait_ready(Duration::from_millis(20)).await.unwrap();
    }
}
