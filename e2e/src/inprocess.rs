//! A daemon's `run(options, shutdown)` started in the test's process (the scheduler, the
//! controller-manager), stopped by completing its shutdown future, and aborted if it does not
//! return within 10 seconds.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::oneshot;

pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

pub struct InProcess {
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl InProcess {
    /// Spawns `run(shutdown)` on the current runtime.
    pub fn start<F, Fut>(run: F) -> Self
    where
        F: FnOnce(Shutdown) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(run(Box::pin(async {
            let _ = rx.await;
        })));
        InProcess {
            stop: Some(tx),
            task,
        }
    }

    /// Asks the daemon to stop and waits for it (10 s at most, then aborts it).
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut self.task).await;
        self.task.abort();
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.task.abort();
    }
}
