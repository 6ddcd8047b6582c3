//! The iptables proxier: upstream's chain layout (KUBE-SERVICES, KUBE-SVC-*, KUBE-SEP-*,
//! KUBE-EXT-*, KUBE-NODEPORTS, KUBE-MARK-MASQ, KUBE-POSTROUTING, KUBE-FORWARD), endpoints
//! picked at random with the `statistic` match, rendered as one `iptables-restore` input and
//! applied atomically with `--noflush` (only our chains are rewritten), then stale chains of
//! ours deleted. `render` is pure so its output is unit-tested against recorded expectations.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::process::Stdio;

use tokio::io::AsyncWriteExt as _;
use tokio::process::Command;

use crate::model::ServicePort;

/// The mark that asks KUBE-POSTROUTING to masquerade (upstream's `--masquerade-bit` 14).
pub const MASQ_MARK: &str = "0x4000/0x4000";

/// Settings of the rules.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// `--cluster-cidr`: traffic to a ClusterIP from outside it is masqueraded.
    pub cluster_cidr: Option<String>,
}

/// Upstream's chain naming: prefix + the first 16 characters of base32(sha256(seed)).
pub fn chain_name(prefix: &str, seed: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = openssl::sha::sha256(seed.as_bytes());
    let mut out = String::from(prefix);
    let (mut buf, mut bits) = (0u32, 0u32);
    for b in digest {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 && out.len() < prefix.len() + 16 {
            bits -= 5;
            out.push(ALPHABET[((buf >> bits) & 31) as usize] as char);
        }
    }
    out
}

fn svc_chain(p: &ServicePort) -> String {
    chain_name(
        "KUBE-SVC-",
        &format!("{}{}", p.name, p.protocol.to_lowercase()),
    )
}

fn ext_chain(p: &ServicePort) -> String {
    chain_name(
        "KUBE-EXT-",
        &format!("{}{}", p.name, p.protocol.to_lowercase()),
    )
}

fn sep_chain(p: &ServicePort, ip: &str, port: i32) -> String {
    chain_name(
        "KUBE-SEP-",
        &format!("{}{}{ip}:{port}", p.name, p.protocol.to_lowercase()),
    )
}

/// The `iptables-restore` input for every Service port.
pub fn render(ports: &[ServicePort], cfg: &Config) -> String {
    let mut filter = String::new();
    let mut nat = String::new();
    let mut nat_chains: BTreeSet<String> = [
        "KUBE-SERVICES",
        "KUBE-NODEPORTS",
        "KUBE-POSTROUTING",
        "KUBE-MARK-MASQ",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let filter_chains = [
        "KUBE-SERVICES",
        "KUBE-EXTERNAL-SERVICES",
        "KUBE-FORWARD",
        "KUBE-NODEPORTS",
    ];

    // nat: masquerade plumbing.
    let _ = writeln!(
        nat,
        "-A KUBE-POSTROUTING -m mark ! --mark {MASQ_MARK} -j RETURN"
    );
    let _ = writeln!(nat, "-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000");
    let _ = writeln!(
        nat,
        "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully"
    );
    let _ = writeln!(nat, "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000");
    // filter: forwarding of marked and established traffic.
    let _ = writeln!(
        filter,
        "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP"
    );
    let _ = writeln!(
        filter,
        "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark {MASQ_MARK} -j ACCEPT"
    );
    let _ = writeln!(
        filter,
        "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
    );

    for p in ports {
        let proto = p.protocol.to_lowercase();
        let svc = svc_chain(p);
        if p.endpoints.is_empty() {
            // No endpoints: refuse at once rather than let packets time out.
            for ip in &p.cluster_ips {
                let _ = writeln!(
                    filter,
                    "-A KUBE-SERVICES -d {ip}/32 -p {proto} -m comment --comment \"{} has no endpoints\" -m {proto} --dport {} -j REJECT --reject-with icmp-port-unreachable",
                    p.name, p.port
                );
            }
            if let Some(np) = p.node_port {
                let _ = writeln!(
                    filter,
                    "-A KUBE-EXTERNAL-SERVICES -m addrtype --dst-type LOCAL -p {proto} -m comment --comment \"{} has no endpoints\" -m {proto} --dport {np} -j REJECT --reject-with icmp-port-unreachable",
                    p.name
                );
            }
            continue;
        }
        nat_chains.insert(svc.clone());
        for ip in &p.cluster_ips {
            let _ = writeln!(
                nat,
                "-A KUBE-SERVICES -d {ip}/32 -p {proto} -m comment --comment \"{} cluster IP\" -m {proto} --dport {} -j {svc}",
                p.name, p.port
            );
            if let Some(cidr) = &cfg.cluster_cidr {
                let _ = writeln!(
                    nat,
                    "-A {svc} ! -s {cidr} -d {ip}/32 -p {proto} -m comment --comment \"{} cluster IP\" -m {proto} --dport {} -j KUBE-MARK-MASQ",
                    p.name, p.port
                );
            }
        }
        let external = p.node_port.is_some() || !p.external_ips.is_empty();
        if external {
            let ext = ext_chain(p);
            nat_chains.insert(ext.clone());
            let _ = writeln!(
                nat,
                "-A {ext} -m comment --comment \"masquerade traffic for {} external destinations\" -j KUBE-MARK-MASQ",
                p.name
            );
            let _ = writeln!(nat, "-A {ext} -j {svc}");
            if let Some(np) = p.node_port {
                let _ = writeln!(
                    nat,
                    "-A KUBE-NODEPORTS -p {proto} -m comment --comment \"{}\" -m {proto} --dport {np} -j {ext}",
                    p.name
                );
            }
            for ip in &p.external_ips {
                let _ = writeln!(
                    nat,
                    "-A KUBE-SERVICES -d {ip}/32 -p {proto} -m comment --comment \"{} external IP\" -m {proto} --dport {} -j {ext}",
                    p.name, p.port
                );
            }
        }
        let n = p.endpoints.len();
        let seps: Vec<String> = p
            .endpoints
            .iter()
            .map(|(ip, port)| sep_chain(p, ip, *port))
            .collect();
        if let Some(timeout) = p.affinity_timeout {
            // A client seen recently goes back to the endpoint it had.
            for sep in &seps {
                let _ = writeln!(
                    nat,
                    "-A {svc} -m comment --comment \"{}\" -m recent --name {sep} --rcheck --seconds {timeout} --reap -j {sep}",
                    p.name
                );
            }
        }
        for (i, ((ip, port), sep)) in p.endpoints.iter().zip(&seps).enumerate() {
            let comment = format!("-m comment --comment \"{} -> {ip}:{port}\"", p.name);
            if i + 1 < n {
                let _ = writeln!(
                    nat,
                    "-A {svc} {comment} -m statistic --mode random --probability {:.10} -j {sep}",
                    1.0 / (n - i) as f64
                );
            } else {
                let _ = writeln!(nat, "-A {svc} {comment} -j {sep}");
            }
            nat_chains.insert(sep.clone());
            let _ = writeln!(
                nat,
                "-A {sep} -m comment --comment \"{}\" -s {ip}/32 -j KUBE-MARK-MASQ",
                p.name
            );
            let recent = p
                .affinity_timeout
                .map(|_| format!(" -m recent --name {sep} --set"))
                .unwrap_or_default();
            let _ = writeln!(
                nat,
                "-A {sep} -m comment --comment \"{}\"{recent} -p {proto} -m {proto} -j DNAT --to-destination {ip}:{port}",
                p.name
            );
        }
    }
    let _ = writeln!(
        nat,
        "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS"
    );

    let mut out = String::from("*filter\n");
    for c in filter_chains {
        let _ = writeln!(out, ":{c} - [0:0]");
    }
    out.push_str(&filter);
    out.push_str("COMMIT\n*nat\n");
    for c in &nat_chains {
        let _ = writeln!(out, ":{c} - [0:0]");
    }
    out.push_str(&nat);
    out.push_str("COMMIT\n");
    out
}

/// The jumps from the built-in chains into ours: (table, chain, rule).
pub const JUMPS: &[(&str, &str, &str)] = &[
    ("filter", "INPUT", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES"),
    ("filter", "FORWARD", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES"),
    ("filter", "FORWARD", "-m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD"),
    ("filter", "OUTPUT", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"),
    ("filter", "FORWARD", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"),
    ("nat", "PREROUTING", "-m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"),
    ("nat", "OUTPUT", "-m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"),
    ("nat", "POSTROUTING", "-m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING"),
];

/// Splits a rule into arguments, keeping quoted comments whole.
fn args(rule: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in rule.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

async fn iptables(argv: &[String]) -> anyhow::Result<bool> {
    let out = Command::new("iptables")
        .args(argv)
        .stdin(Stdio::null())
        .output()
        .await?;
    Ok(out.status.success())
}

/// Makes sure our chains exist and the built-in chains jump to them.
pub async fn ensure_jumps() -> anyhow::Result<()> {
    for (table, chain, rule) in JUMPS {
        let target = rule.rsplit(' ').next().unwrap_or_default();
        // Creating an existing chain fails harmlessly.
        iptables(&[
            "-w".into(),
            "-t".into(),
            table.to_string(),
            "-N".into(),
            target.to_string(),
        ])
        .await?;
        let mut check = vec![
            "-w".into(),
            "-t".into(),
            table.to_string(),
            "-C".into(),
            chain.to_string(),
        ];
        check.extend(args(rule));
        if !iptables(&check).await? {
            let mut insert = vec![
                "-w".into(),
                "-t".into(),
                table.to_string(),
                "-I".into(),
                chain.to_string(),
            ];
            insert.extend(args(rule));
            if !iptables(&insert).await? {
                anyhow::bail!("iptables: adding the jump from {table}/{chain} to {target} failed");
            }
        }
    }
    Ok(())
}

/// The chain names declared in an `iptables-restore` input's nat table.
fn nat_chains(text: &str) -> BTreeSet<String> {
    text.split("*nat\n")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .take_while(|l| *l != "COMMIT")
        .filter_map(|l| l.strip_prefix(':'))
        .filter_map(|l| l.split(' ').next())
        .filter(|c| is_ours(c))
        .map(str::to_string)
        .collect()
}

/// Adds the deletion of `stale` chains to the nat table of `rules`: declared (which flushes
/// them, so nothing jumps into them) and then `-X`, in the same atomic transaction.
fn with_deletions(rules: &str, stale: &BTreeSet<String>) -> String {
    if stale.is_empty() {
        return rules.to_string();
    }
    let (filter, nat) = rules.split_once("*nat\n").unwrap_or((rules, ""));
    let body = nat.strip_suffix("COMMIT\n").unwrap_or(nat);
    let mut out = format!("{filter}*nat\n");
    for c in stale {
        let _ = writeln!(out, ":{c} - [0:0]");
    }
    out.push_str(body);
    for c in stale {
        let _ = writeln!(out, "-X {c}");
    }
    out.push_str("COMMIT\n");
    out
}

/// Writes rules and remembers which chains of ours exist, so a sync deletes the chains the
/// previous one made and the new rules no longer name without asking the kernel (only the
/// first sync, and the one after a failure, read `iptables-save`).
#[derive(Default)]
pub struct Applier {
    ours: Option<BTreeSet<String>>,
}

impl Applier {
    /// Applies `rules` atomically, deleting stale chains of ours in the same transaction.
    pub async fn apply(&mut self, rules: &str) -> anyhow::Result<()> {
        let existing = match self.ours.take() {
            Some(known) => known,
            None => {
                let saved = Command::new("iptables-save")
                    .args(["-t", "nat"])
                    .output()
                    .await?;
                let text = String::from_utf8_lossy(&saved.stdout);
                text.lines()
                    .filter_map(|l| l.strip_prefix(':'))
                    .filter_map(|l| l.split(' ').next())
                    .filter(|c| is_ours(c))
                    .map(str::to_string)
                    .collect()
            }
        };
        let live = nat_chains(rules);
        let stale: BTreeSet<String> = existing.difference(&live).cloned().collect();
        let input = with_deletions(rules, &stale);
        let mut child = Command::new("iptables-restore")
            .args(["-w", "--noflush", "--counters"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| anyhow::anyhow!("running iptables-restore: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(input.as_bytes()).await?;
        }
        let out = child.wait_with_output().await?;
        if !out.status.success() {
            // What exists is unknown now: the next sync reads it again.
            anyhow::bail!(
                "iptables-restore failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        self.ours = Some(live);
        Ok(())
    }
}

fn is_ours(chain: &str) -> bool {
    ["KUBE-SVC-", "KUBE-SEP-", "KUBE-EXT-"]
        .iter()
        .any(|p| chain.starts_with(p))
}

/// `--cleanup`: removes the jumps and every chain of ours, in both tables.
pub async fn cleanup() -> anyhow::Result<()> {
    for (table, chain, rule) in JUMPS {
        let mut del = vec![
            "-w".into(),
            "-t".into(),
            table.to_string(),
            "-D".into(),
            chain.to_string(),
        ];
        del.extend(args(rule));
        while iptables(&del).await? {}
    }
    for table in ["nat", "filter"] {
        let saved = Command::new("iptables-save")
            .args(["-t", table])
            .output()
            .await?;
        let text = String::from_utf8_lossy(&saved.stdout);
        let ours: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix(':'))
            .filter_map(|l| l.split(' ').next())
            .filter(|c| c.starts_with("KUBE-"))
            .collect();
        for c in &ours {
            iptables(&[
                "-w".into(),
                "-t".into(),
                table.into(),
                "-F".into(),
                c.to_string(),
            ])
            .await?;
        }
        for c in &ours {
            iptables(&[
                "-w".into(),
                "-t".into(),
                table.into(),
                "-X".into(),
                c.to_string(),
            ])
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(endpoints: Vec<(&str, i32)>, node_port: Option<i32>) -> ServicePort {
        ServicePort {
            name: "default/web:http".into(),
            cluster_ips: vec!["10.96.0.10".into()],
            port: 80,
            protocol: "TCP".into(),
            node_port,
            affinity_timeout: None,
            external_ips: vec![],
            endpoints: endpoints
                .into_iter()
                .map(|(ip, p)| (ip.to_string(), p))
                .collect(),
        }
    }

    #[test]
    fn chain_names_are_upstreams_shape() {
        let n = chain_name("KUBE-SVC-", "default/web:httptcp");
        assert_eq!(n.len(), "KUBE-SVC-".len() + 16);
        assert!(n["KUBE-SVC-".len()..]
            .chars()
            .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)));
        assert_eq!(n, chain_name("KUBE-SVC-", "default/web:httptcp"));
    }

    #[test]
    fn two_endpoints_split_half_and_half() {
        let p = port(vec![("10.1.0.2", 8080), ("10.1.0.3", 8080)], Some(30080));
        let rules = render(
            std::slice::from_ref(&p),
            &Config {
                cluster_cidr: Some("10.1.0.0/16".into()),
            },
        );
        let svc = svc_chain(&p);
        let sep1 = sep_chain(&p, "10.1.0.2", 8080);
        let sep2 = sep_chain(&p, "10.1.0.3", 8080);
        let expect = [
            format!("-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment \"default/web:http cluster IP\" -m tcp --dport 80 -j {svc}"),
            format!("-A {svc} ! -s 10.1.0.0/16 -d 10.96.0.10/32 -p tcp -m comment --comment \"default/web:http cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ"),
            format!("-A {svc} -m comment --comment \"default/web:http -> 10.1.0.2:8080\" -m statistic --mode random --probability 0.5000000000 -j {sep1}"),
            format!("-A {svc} -m comment --comment \"default/web:http -> 10.1.0.3:8080\" -j {sep2}"),
            format!("-A {sep1} -m comment --comment \"default/web:http\" -p tcp -m tcp -j DNAT --to-destination 10.1.0.2:8080"),
            "-A KUBE-NODEPORTS -p tcp -m comment --comment \"default/web:http\" -m tcp --dport 30080 -j KUBE-EXT-".to_string(),
        ];
        for line in expect {
            assert!(rules.contains(&line), "missing {line}\nin\n{rules}");
        }
        assert!(rules.trim_end().ends_with("COMMIT"));
        // The nodeports jump is the last rule of KUBE-SERVICES.
        let last = rules
            .lines()
            .rfind(|l| l.starts_with("-A KUBE-SERVICES"))
            .unwrap();
        assert!(last.contains("-j KUBE-NODEPORTS"), "{last}");
    }

    #[test]
    fn no_endpoints_rejects_in_filter() {
        let rules = render(&[port(vec![], None)], &Config::default());
        assert!(rules.contains("-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment \"default/web:http has no endpoints\" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable"), "{rules}");
        assert!(!rules.contains("KUBE-SVC-"));
    }

    #[test]
    fn stale_chains_are_deleted_in_the_same_transaction() {
        let p = port(vec![("10.1.0.2", 8080)], None);
        let rules = render(&[p], &Config::default());
        let live = nat_chains(&rules);
        assert!(live.iter().any(|c| c.starts_with("KUBE-SVC-")), "{live:?}");
        let stale: BTreeSet<String> = ["KUBE-SVC-GONEGONEGONEGONE".to_string()].into();
        let input = with_deletions(&rules, &stale);
        let nat = input.split("*nat\n").nth(1).unwrap();
        assert!(
            nat.starts_with(":KUBE-SVC-GONEGONEGONEGONE - [0:0]\n"),
            "{nat}"
        );
        assert!(
            nat.ends_with("-X KUBE-SVC-GONEGONEGONEGONE\nCOMMIT\n"),
            "{nat}"
        );
        assert_eq!(with_deletions(&rules, &BTreeSet::new()), rules);
    }

    #[test]
    fn comments_stay_one_argument() {
        assert_eq!(
            args("-m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"),
            vec![
                "-m",
                "comment",
                "--comment",
                "kubernetes service portals",
                "-j",
                "KUBE-SERVICES"
            ]
        );
    }
}
