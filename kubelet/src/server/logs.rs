//! `/containerLogs/{namespace}/{pod}/{container}`: upstream's query (`follow`, `tailLines`,
//! `sinceSeconds`, `sinceTime`, `timestamps`, `previous`, `limitBytes`), the container found
//! through CRI, and its CRI log file read (`<RFC3339Nano> <stdout|stderr> <P|F> <text>` lines,
//! `P` marking a partial line joined with the next), following it until the container exits
//! and the file is drained, or the client goes away.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::Response;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use tokio::io::{AsyncBufReadExt as _, AsyncSeekExt as _, BufReader};
use tokio::sync::mpsc;

use super::http_util::{channel_body, first, query_pairs, text, Body};
use super::{find_pod, lookup, State};

/// How often a followed file is polled for new lines.
const FOLLOW_POLL: Duration = Duration::from_millis(100);
/// How often a followed container's state is checked (and the file's identity, for rotation).
const STATE_CHECK: Duration = Duration::from_secs(1);
/// How much output is gathered before it is sent as one chunk.
const CHUNK: usize = 16 * 1024;

/// The kubelet's `PodLogOptions`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogOptions {
    pub follow: bool,
    pub previous: bool,
    pub timestamps: bool,
    pub tail_lines: Option<i64>,
    pub since_seconds: Option<i64>,
    pub since_time: Option<Timestamp>,
    pub limit_bytes: Option<i64>,
}

/// Why a log query was refused, with upstream's status and body.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LogQueryError {
    /// 400: a value does not parse.
    #[error("{{\"message\": \"Unable to decode query.\"}}")]
    Decode,
    /// 422: values that parse but fail `ValidatePodLogOptions`.
    #[error("{{\"message\": \"Invalid request.\"}}")]
    Invalid,
}

impl LogQueryError {
    pub fn status(&self) -> u16 {
        match self {
            LogQueryError::Decode => 400,
            LogQueryError::Invalid => 422,
        }
    }
}

/// Go's `strconv.ParseBool`.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" | "" => Some(false),
        _ => None,
    }
}

impl LogOptions {
    /// Parses the query as upstream's kubelet does (including the legacy `tail`, where `all`
    /// means no limit) and validates it.
    pub fn parse(query: Option<&str>) -> Result<Self, LogQueryError> {
        let q = query_pairs(query);
        let boolean = |k: &str| -> Result<bool, LogQueryError> {
            first(&q, k).map_or(Ok(false), |v| parse_bool(v).ok_or(LogQueryError::Decode))
        };
        let int = |k: &str| -> Result<Option<i64>, LogQueryError> {
            match first(&q, k) {
                None => Ok(None),
                Some(v) => v.parse().map(Some).map_err(|_| LogQueryError::Decode),
            }
        };
        let mut tail_lines = int("tailLines")?;
        match first(&q, "tail") {
            Some("all") => tail_lines = None,
            Some(v) if !v.is_empty() => {
                tail_lines = Some(v.parse().map_err(|_| LogQueryError::Decode)?)
            }
            _ => {}
        }
        let since_time = match first(&q, "sinceTime").filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(s.parse::<Timestamp>().map_err(|_| LogQueryError::Decode)?),
        };
        let o = LogOptions {
            follow: boolean("follow")?,
            previous: boolean("previous")?,
            timestamps: boolean("timestamps")?,
            tail_lines,
            since_seconds: int("sinceSeconds")?,
            since_time,
            limit_bytes: int("limitBytes")?,
        };
        let invalid = o.tail_lines.is_some_and(|n| n < 0)
            || o.limit_bytes.is_some_and(|n| n < 1)
            || o.since_seconds.is_some_and(|n| n < 1)
            || (o.since_seconds.is_some() && o.since_time.is_some());
        if invalid {
            return Err(LogQueryError::Invalid);
        }
        Ok(o)
    }

    /// The earliest timestamp to show.
    fn since(&self, now: Timestamp) -> Option<Timestamp> {
        match (self.since_time, self.since_seconds) {
            (Some(t), _) => Some(t),
            (None, Some(s)) => now.checked_sub(jiff::SignedDuration::from_secs(s)).ok(),
            (None, None) => None,
        }
    }
}

/// One line of a CRI log file.
#[derive(Debug, PartialEq)]
pub struct LogLine<'a> {
    pub time: Timestamp,
    pub stream: &'a str,
    pub partial: bool,
    pub text: &'a [u8],
}

/// Parses `<RFC3339Nano> <stream> <tags> <text>` (the trailing newline already removed).
pub fn parse_line(line: &[u8]) -> Option<LogLine<'_>> {
    let mut parts = line.splitn(4, |b| *b == b' ');
    let time = std::str::from_utf8(parts.next()?).ok()?.parse().ok()?;
    let stream = std::str::from_utf8(parts.next()?).ok()?;
    if stream != "stdout" && stream != "stderr" {
        return None;
    }
    // Tags are `:`-separated; the first says whether the line is partial.
    let tags = parts.next()?;
    let partial = tags.split(|b| *b == b':').next() == Some(b"P");
    Some(LogLine {
        time,
        stream,
        partial,
        text: parts.next().unwrap_or_default(),
    })
}

/// Turns log file lines into what the client sees: partial lines joined, the `since` filter,
/// timestamps on each whole line, and the `limitBytes` budget.
pub struct Formatter {
    since: Option<Timestamp>,
    timestamps: bool,
    remaining: Option<u64>,
    /// Whether the next line starts a new output line (the previous one was whole).
    at_line_start: bool,
}

impl Formatter {
    pub fn new(opts: &LogOptions, now: Timestamp) -> Self {
        Formatter {
            since: opts.since(now),
            timestamps: opts.timestamps,
            remaining: opts.limit_bytes.map(|n| n.max(0) as u64),
            at_line_start: true,
        }
    }

    /// Appends one file line's output to `out`; false once the byte limit is reached.
    /// Lines that are not in the CRI format are skipped.
    pub fn push(&mut self, raw: &[u8], out: &mut Vec<u8>) -> bool {
        if self.remaining == Some(0) {
            return false;
        }
        let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
        let Some(line) = parse_line(raw) else {
            return true;
        };
        let starts_line = self.at_line_start;
        self.at_line_start = !line.partial;
        if self.since.is_some_and(|s| line.time < s) {
            return true;
        }
        let start = out.len();
        if self.timestamps && starts_line {
            out.extend_from_slice(
                line.time
                    .strftime("%Y-%m-%dT%H:%M:%S.%9fZ")
                    .to_string()
                    .as_bytes(),
            );
            out.push(b' ');
        }
        out.extend_from_slice(line.text);
        if !line.partial {
            out.push(b'\n');
        }
        if let Some(rem) = self.remaining.as_mut() {
            let written = (out.len() - start) as u64;
            if written >= *rem {
                out.truncate(start + *rem as usize);
                *rem = 0;
                return false;
            }
            *rem -= written;
        }
        true
    }
}

/// The offset where the last `n` lines of `path` begin (upstream counts file lines, so each
/// partial piece counts as one).
pub fn tail_start(path: &Path, n: u64) -> std::io::Result<u64> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    let size = f.metadata()?.len();
    if n == 0 {
        return Ok(size);
    }
    let mut end = size;
    let mut found = 0u64;
    let mut skip_last_newline = true;
    let mut buf = vec![0u8; 8192];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let len = (end - start) as usize;
        f.seek(SeekFrom::Start(start))?;
        f.read_exact(&mut buf[..len])?;
        for i in (0..len).rev() {
            if buf[i] != b'\n' {
                skip_last_newline = false;
                continue;
            }
            // The newline ending the file ends the last line; it does not begin one.
            if skip_last_newline && start + i as u64 == size - 1 {
                skip_last_newline = false;
                continue;
            }
            found += 1;
            if found == n {
                return Ok(start + i as u64 + 1);
            }
        }
        end = start;
    }
    Ok(0)
}

/// Where the log stream goes: a channel to the response body, which fails when the client
/// has gone away.
pub type Sink = mpsc::Sender<Bytes>;

/// Reads `path` from the tail's offset through the formatter into `sink`; when following,
/// waits for more until `running` says the container has stopped (then drains the file) or
/// the client goes away.
pub async fn stream_file<F, Fut>(
    path: &Path,
    opts: &LogOptions,
    sink: Sink,
    mut running: F,
) -> std::io::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = match opts.tail_lines {
        Some(n) => {
            let p = path.to_path_buf();
            let n = n.max(0) as u64;
            tokio::task::spawn_blocking(move || tail_start(&p, n))
                .await
                .map_err(std::io::Error::other)??
        }
        None => 0,
    };
    let mut file = tokio::fs::File::open(path).await?;
    file.seek(std::io::SeekFrom::Start(start)).await?;
    let mut ino = file.metadata().await.map(|m| inode(&m)).unwrap_or(0);
    let mut reader = BufReader::new(file);
    let mut fmt = Formatter::new(opts, Timestamp::now());
    let mut out = Vec::with_capacity(CHUNK);
    let mut line = Vec::new();
    let mut stopping = false;
    let mut last_check = tokio::time::Instant::now();
    loop {
        let n = reader.read_until(b'\n', &mut line).await?;
        if n > 0 && line.ends_with(b"\n") {
            let more = fmt.push(&line, &mut out);
            line.clear();
            if !more {
                break;
            }
            if out.len() >= CHUNK
                && sink
                    .send(Bytes::from(std::mem::take(&mut out)))
                    .await
                    .is_err()
            {
                return Ok(());
            }
            continue;
        }
        // End of the file for now; `line` may hold an incomplete last line.
        if !opts.follow || stopping {
            if !line.is_empty() {
                fmt.push(&line, &mut out);
            }
            break;
        }
        if !out.is_empty()
            && sink
                .send(Bytes::from(std::mem::take(&mut out)))
                .await
                .is_err()
        {
            return Ok(());
        }
        tokio::select! {
            _ = sink.closed() => return Ok(()),
            _ = tokio::time::sleep(FOLLOW_POLL) => {}
        }
        if last_check.elapsed() >= STATE_CHECK {
            last_check = tokio::time::Instant::now();
            if !running().await {
                // One more pass reads what was written before the container stopped.
                stopping = true;
                continue;
            }
            // A rotated file: the runtime now writes a new file at the path; go on there once
            // the old one is read to its end.
            if let Ok(m) = tokio::fs::metadata(path).await {
                if inode(&m) != ino {
                    if let Ok(f) = tokio::fs::File::open(path).await {
                        ino = inode(&m);
                        reader = BufReader::new(f);
                        line.clear();
                    }
                }
            }
        }
    }
    if !out.is_empty() {
        let _ = sink.send(Bytes::from(out)).await;
    }
    Ok(())
}

fn inode(m: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(m)
}

/// Upstream's answer when the pod's status says why the container has no log yet.
pub fn not_started_message(pod: &Pod, container: &str) -> String {
    let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
    let status = pod.status.as_ref().and_then(|s| {
        [
            s.container_statuses.as_ref(),
            s.init_container_statuses.as_ref(),
            s.ephemeral_container_statuses.as_ref(),
        ]
        .into_iter()
        .flatten()
        .flatten()
        .find(|c| c.name == container)
    });
    let Some(status) = status else {
        return format!("container {container:?} in pod {pod_name:?} is not available");
    };
    let waiting = status.state.as_ref().and_then(|s| s.waiting.as_ref());
    match waiting.and_then(|w| w.reason.as_deref()) {
        Some("ErrImagePull") => format!(
            "container {container:?} in pod {pod_name:?} is waiting to start: image can't be pulled"
        ),
        Some("ImagePullBackOff") => format!(
            "container {container:?} in pod {pod_name:?} is waiting to start: trying and failing to pull image"
        ),
        Some(reason) => {
            format!("container {container:?} in pod {pod_name:?} is waiting to start: {reason}")
        }
        None => format!(
            "container {container:?} in pod {pod_name:?} is waiting to start - no logs yet"
        ),
    }
}

/// Whether the pod's spec has a container (regular, init or ephemeral) of that name.
fn has_container(pod: &Pod, name: &str) -> bool {
    pod.spec.as_ref().is_some_and(|s| {
        s.containers.iter().any(|c| c.name == name)
            || s.init_containers.iter().flatten().any(|c| c.name == name)
            || s.ephemeral_containers
                .iter()
                .flatten()
                .any(|c| c.name == name)
    })
}

/// The handler.
pub async fn serve(
    state: Arc<State>,
    namespace: &str,
    pod_name: &str,
    container: &str,
    query: Option<&str>,
) -> Response<Body> {
    let opts = match LogOptions::parse(query) {
        Ok(o) => o,
        Err(e) => return text(e.status(), e.to_string()),
    };
    let Some(pod) = find_pod(&state, namespace, pod_name) else {
        return text(404, format!("pod {pod_name:?} does not exist"));
    };
    if !has_container(&pod, container) {
        return text(
            404,
            format!("container {container:?} not found in pod {pod_name:?}"),
        );
    }
    let uid = pod.metadata.uid.as_deref();
    let instances = match lookup::containers(&state.cri, namespace, pod_name, uid, container).await
    {
        Ok(l) => l,
        Err(e) => return text(500, e.to_string()),
    };
    let chosen = if opts.previous {
        let current = instances.first().map(lookup::restart_count);
        match instances
            .iter()
            .find(|c| Some(lookup::restart_count(c)) < current)
        {
            Some(c) => c,
            None => {
                return text(
                    400,
                    format!(
                        "previous terminated container {container:?} in pod {pod_name:?} not found"
                    ),
                )
            }
        }
    } else {
        match instances.first() {
            Some(c) => c,
            None => return text(400, not_started_message(&pod, container)),
        }
    };
    let id = chosen.id.clone();
    let path = match lookup::log_file(&state.cri, &id).await {
        Ok((p, _)) if !p.is_empty() => p,
        Ok(_) => {
            return text(
                400,
                format!("container {container:?} in pod {pod_name:?} has no log file"),
            )
        }
        Err(e) => return text(400, e.to_string()),
    };
    if let Err(e) = tokio::fs::metadata(&path).await {
        return text(400, format!("failed to open log file {path:?}: {e}"));
    }
    let (tx, body) = channel_body();
    let cri = state.cri.clone();
    tokio::spawn(async move {
        let running = || {
            let cri = cri.clone();
            let id = id.clone();
            async move { lookup::is_running(&cri, &id).await }
        };
        if let Err(e) = stream_file(Path::new(&path), &opts, tx, running).await {
            tracing::warn!(path, "reading a container log: {e}");
        }
    });
    Response::builder()
        .status(200)
        .header("Content-Type", "text/plain")
        .body(body)
        .unwrap_or_else(|_| text(500, "building the response"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn format(lines: &[&str], opts: &LogOptions) -> String {
        let mut f = Formatter::new(opts, ts("2024-01-01T00:10:00Z"));
        let mut out = Vec::new();
        for l in lines {
            if !f.push(format!("{l}\n").as_bytes(), &mut out) {
                break;
            }
        }
        String::from_utf8(out).unwrap()
    }

    const LINES: &[&str] = &[
        "2024-01-01T00:00:00.000000001Z stdout F first",
        "2024-01-01T00:05:00.5Z stderr P sec",
        "2024-01-01T00:05:01Z stderr P o",
        "2024-01-01T00:05:02Z stderr F nd",
        "not a log line",
        "2024-01-01T00:09:00Z stdout F ",
        "2024-01-01T00:09:30Z stdout F last one",
    ];

    #[test]
    fn partial_lines_are_joined() {
        assert_eq!(
            format(LINES, &LogOptions::default()),
            "first\nsecond\n\nlast one\n"
        );
    }

    #[test]
    fn timestamps_prefix_each_whole_line_with_nine_digits() {
        let opts = LogOptions {
            timestamps: true,
            ..Default::default()
        };
        assert_eq!(
            format(LINES, &opts),
            "2024-01-01T00:00:00.000000001Z first\n\
             2024-01-01T00:05:00.500000000Z second\n\
             2024-01-01T00:09:00.000000000Z \n\
             2024-01-01T00:09:30.000000000Z last one\n"
        );
    }

    #[test]
    fn since_skips_older_lines() {
        let opts = LogOptions {
            since_seconds: Some(60),
            ..Default::default()
        };
        assert_eq!(format(LINES, &opts), "\nlast one\n");
        let opts = LogOptions {
            since_time: Some(ts("2024-01-01T00:05:01Z")),
            ..Default::default()
        };
        assert_eq!(format(LINES, &opts), "ond\n\nlast one\n");
    }

    #[test]
    fn limit_bytes_cuts_the_output() {
        let opts = LogOptions {
            limit_bytes: Some(9),
            ..Default::default()
        };
        assert_eq!(format(LINES, &opts), "first\nsec");
        let opts = LogOptions {
            limit_bytes: Some(6),
            ..Default::default()
        };
        assert_eq!(format(LINES, &opts), "first\n");
    }

    #[test]
    fn tail_counts_file_lines_from_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("0.log");
        std::fs::write(&p, "a\nbb\nccc\n").unwrap();
        assert_eq!(tail_start(&p, 0).unwrap(), 9);
        assert_eq!(tail_start(&p, 1).unwrap(), 5);
        assert_eq!(tail_start(&p, 2).unwrap(), 2);
        assert_eq!(tail_start(&p, 3).unwrap(), 0);
        assert_eq!(tail_start(&p, 10).unwrap(), 0);
        // Without a final newline the last line still counts as one.
        std::fs::write(&p, "a\nbb").unwrap();
        assert_eq!(tail_start(&p, 1).unwrap(), 2);
        // Across the read buffer's boundary.
        let long: String = (0..5000).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&p, &long).unwrap();
        let off = tail_start(&p, 3).unwrap() as usize;
        assert_eq!(&long[off..], "line 4997\nline 4998\nline 4999\n");
    }

    #[test]
    fn queries_parse_and_validate_as_upstream() {
        let o = LogOptions::parse(Some(
            "follow=true&tailLines=5&timestamps=1&previous=false&limitBytes=10&sinceTime=2024-01-01T00%3A00%3A00Z",
        ))
        .unwrap();
        assert_eq!(
            o,
            LogOptions {
                follow: true,
                previous: false,
                timestamps: true,
                tail_lines: Some(5),
                since_seconds: None,
                since_time: Some(ts("2024-01-01T00:00:00Z")),
                limit_bytes: Some(10),
            }
        );
        assert_eq!(
            LogOptions::parse(Some("tail=3")).unwrap().tail_lines,
            Some(3)
        );
        assert_eq!(
            LogOptions::parse(Some("tailLines=3&tail=all"))
                .unwrap()
                .tail_lines,
            None
        );
        for (q, want) in [
            ("follow=maybe", LogQueryError::Decode),
            ("tailLines=x", LogQueryError::Decode),
            ("sinceTime=yesterday", LogQueryError::Decode),
            ("tailLines=-1", LogQueryError::Invalid),
            ("limitBytes=0", LogQueryError::Invalid),
            ("sinceSeconds=0", LogQueryError::Invalid),
            (
                "sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z",
                LogQueryError::Invalid,
            ),
        ] {
            assert_eq!(LogOptions::parse(Some(q)), Err(want.clone()), "{q}");
        }
        assert_eq!(
            LogQueryError::Decode.to_string(),
            r#"{"message": "Unable to decode query."}"#
        );
        assert_eq!(LogQueryError::Invalid.status(), 422);
    }

    #[test]
    fn why_there_is_no_log_yet() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p"},
            "status": {"containerStatuses": [
                {"name": "a", "ready": false, "restartCount": 0, "image": "i", "imageID": "",
                 "state": {"waiting": {"reason": "ImagePullBackOff"}}},
                {"name": "b", "ready": false, "restartCount": 0, "image": "i", "imageID": "",
                 "state": {"waiting": {}}}
            ]}
        }))
        .unwrap();
        assert_eq!(
            not_started_message(&pod, "a"),
            r#"container "a" in pod "p" is waiting to start: trying and failing to pull image"#
        );
        assert_eq!(
            not_started_message(&pod, "b"),
            r#"container "b" in pod "p" is waiting to start - no logs yet"#
        );
        assert_eq!(
            not_started_message(&pod, "c"),
            r#"container "c" in pod "p" is not available"#
        );
    }

    async fn collect(mut rx: mpsc::Receiver<Bytes>) -> String {
        let mut s = Vec::new();
        while let Some(b) = rx.recv().await {
            s.extend_from_slice(&b);
        }
        String::from_utf8(s).unwrap()
    }

    #[tokio::test]
    async fn follow_reads_a_growing_file_until_the_container_stops() {
        use std::io::Write as _;
        use std::sync::atomic::{AtomicBool, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("0.log");
        std::fs::write(
            &p,
            "2024-01-01T00:00:00Z stdout F old\n2024-01-01T00:00:01Z stdout F one\n",
        )
        .unwrap();
        let running = Arc::new(AtomicBool::new(true));
        let (tx, mut rx) = mpsc::channel(8);
        let opts = LogOptions {
            follow: true,
            tail_lines: Some(1),
            ..Default::default()
        };
        let task = tokio::spawn({
            let p = p.clone();
            let running = running.clone();
            async move {
                stream_file(&p, &opts, tx, || {
                    let r = running.load(Ordering::SeqCst);
                    async move { r }
                })
                .await
            }
        });
        assert_eq!(&rx.recv().await.unwrap()[..], b"one\n");
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        // A file line written in two pieces is only read once whole, and the runtime's
        // partial line (P) is joined with the next.
        f.write_all(b"2024-01-01T00:00:02Z stdout P t").unwrap();
        f.flush().unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        f.write_all(b"w\n2024-01-01T00:00:03Z stdout F o\n")
            .unwrap();
        assert_eq!(&rx.recv().await.unwrap()[..], b"two\n");
        // Written just before the container stops: still delivered (the file is drained).
        running.store(false, Ordering::SeqCst);
        f.write_all(b"2024-01-01T00:00:04Z stderr F last\n")
            .unwrap();
        let rest = tokio::time::timeout(Duration::from_secs(5), collect(rx))
            .await
            .expect("following ends once the container has stopped");
        assert_eq!(rest, "last\n");
        task.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn follow_ends_when_the_client_goes_away() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("0.log");
        std::fs::write(&p, "2024-01-01T00:00:00Z stdout F x\n").unwrap();
        let (tx, mut rx) = mpsc::channel(8);
        let opts = LogOptions {
            follow: true,
            ..Default::default()
        };
        let task = tokio::spawn(async move { stream_file(&p, &opts, tx, || async { true }).await });
        assert_eq!(&rx.recv().await.unwrap()[..], b"x\n");
        drop(rx);
        tokio::time::timeout(Duration::from_secs(2), task)
            .await
            .expect("the reader stops without a client")
            .unwrap()
            .unwrap();
    }
}
