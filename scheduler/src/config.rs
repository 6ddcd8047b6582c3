//! `--config`: the KubeSchedulerConfiguration file (`kubescheduler.config.k8s.io/v1`), the
//! parts built so far: client connection, leader election, `percentageOfNodesToScore`, and
//! profiles with plugins disabled, score weights and NodeResourcesFit's scoring strategy.
//! Unknown fields are refused, as upstream's strict decoding does.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::plugins::resources::ScoringStrategy;
use crate::plugins::KNOWN;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KubeSchedulerConfiguration {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub client_connection: ClientConnection,
    #[serde(default)]
    pub leader_election: Option<LeaderElection>,
    #[serde(default)]
    pub percentage_of_nodes_to_score: Option<u32>,
    #[serde(default)]
    pub profiles: Vec<Profile>,
    // Accepted and not used yet.
    #[serde(default)]
    pub parallelism: Option<u32>,
    #[serde(default)]
    pub pod_initial_backoff_seconds: Option<u64>,
    #[serde(default)]
    pub pod_max_backoff_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientConnection {
    #[serde(default)]
    pub kubeconfig: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaderElection {
    pub leader_elect: Option<bool>,
    pub resource_name: Option<String>,
    pub resource_namespace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Profile {
    #[serde(default)]
    pub scheduler_name: Option<String>,
    #[serde(default)]
    pub percentage_of_nodes_to_score: Option<u32>,
    #[serde(default)]
    pub plugins: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    pub plugin_config: Vec<PluginConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginConfig {
    pub name: String,
    #[serde(default)]
    pub args: serde_json::Value,
}

/// One profile, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileSettings {
    pub scheduler_name: String,
    pub disabled: Vec<String>,
    pub weights: Vec<(String, i64)>,
    pub strategy: ScoringStrategy,
}

impl Default for ProfileSettings {
    fn default() -> Self {
        ProfileSettings {
            scheduler_name: "default-scheduler".into(),
            disabled: Vec::new(),
            weights: Vec::new(),
            strategy: ScoringStrategy::LeastAllocated,
        }
    }
}

const API_VERSION: &str = "kubescheduler.config.k8s.io/v1";

fn names(list: Option<&serde_json::Value>) -> Vec<(String, Option<i64>)> {
    list.and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    let name = p.get("name")?.as_str()?.to_string();
                    Some((name, p.get("weight").and_then(|w| w.as_i64())))
                })
                .collect()
        })
        .unwrap_or_default()
}

impl KubeSchedulerConfiguration {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("failed to read config file {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let cfg: KubeSchedulerConfiguration = serde_yaml::from_str(text)
            .map_err(|e| anyhow::anyhow!("decoding KubeSchedulerConfiguration: {e}"))?;
        if cfg.api_version != API_VERSION || cfg.kind != "KubeSchedulerConfiguration" {
            anyhow::bail!(
                "no kind \"{}\" is registered for version \"{}\" (want {API_VERSION} KubeSchedulerConfiguration)",
                cfg.kind,
                cfg.api_version
            );
        }
        if let Some(p) = cfg.percentage_of_nodes_to_score.filter(|p| *p > 100) {
            anyhow::bail!(
                "percentageOfNodesToScore: Invalid value: {p}: not in valid range [0-100]"
            );
        }
        Ok(cfg)
    }

    /// The profiles, resolved (the default profile when none is given).
    pub fn profiles(&self) -> anyhow::Result<Vec<ProfileSettings>> {
        if self.profiles.is_empty() {
            return Ok(vec![ProfileSettings::default()]);
        }
        let mut out: Vec<ProfileSettings> = Vec::new();
        for (i, p) in self.profiles.iter().enumerate() {
            let mut s = ProfileSettings {
                scheduler_name: p
                    .scheduler_name
                    .clone()
                    .unwrap_or_else(|| "default-scheduler".into()),
                ..Default::default()
            };
            if out.iter().any(|o| o.scheduler_name == s.scheduler_name) {
                anyhow::bail!(
                    "profiles[{i}].schedulerName: Duplicate value: \"{}\"",
                    s.scheduler_name
                );
            }
            for (point, set) in p.plugins.iter().flatten() {
                for (name, _) in names(set.get("disabled")) {
                    if name != "*" && !KNOWN.contains(&name.as_str()) {
                        anyhow::bail!("profiles[{i}].plugins.{point}.disabled: plugin \"{name}\" does not exist");
                    }
                    s.disabled.push(name);
                }
                for (name, weight) in names(set.get("enabled")) {
                    if !KNOWN.contains(&name.as_str()) {
                        anyhow::bail!("profiles[{i}].plugins.{point}.enabled: plugin \"{name}\" does not exist");
                    }
                    // Enabling again what "*" disabled turns it back on.
                    s.disabled.retain(|d| d != &name && d != "*");
                    if let Some(w) = weight {
                        s.weights.push((name, w));
                    }
                }
            }
            for pc in &p.plugin_config {
                if pc.name == "NodeResourcesFit" {
                    match pc.args.pointer("/scoringStrategy/type").and_then(|t| t.as_str()) {
                        None | Some("LeastAllocated") => {}
                        Some("MostAllocated") => s.strategy = ScoringStrategy::MostAllocated,
                        Some(other) => anyhow::bail!(
                            "profiles[{i}].pluginConfig[NodeResourcesFit].args.scoringStrategy.type: Unsupported value: \"{other}\": supported values: \"LeastAllocated\", \"MostAllocated\""
                        ),
                    }
                }
            }
            out.push(s);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_weights_and_strategy() {
        let cfg = KubeSchedulerConfiguration::parse(
            r#"
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 30
profiles:
- schedulerName: default-scheduler
- schedulerName: packer
  plugins:
    score:
      disabled: [{name: NodeResourcesBalancedAllocation}]
      enabled: [{name: NodeResourcesFit, weight: 5}]
  pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated}}
"#,
        )
        .unwrap();
        let p = cfg.profiles().unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].scheduler_name, "packer");
        assert_eq!(
            p[1].disabled,
            vec!["NodeResourcesBalancedAllocation".to_string()]
        );
        assert_eq!(p[1].weights, vec![("NodeResourcesFit".to_string(), 5)]);
        assert_eq!(p[1].strategy, ScoringStrategy::MostAllocated);
    }

    #[test]
    fn bad_configs_are_refused_with_the_field() {
        let err = KubeSchedulerConfiguration::parse("apiVersion: v1\nkind: Pod\n").unwrap_err();
        assert!(err.to_string().contains("no kind \"Pod\""), "{err}");
        let err = KubeSchedulerConfiguration::parse(
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nbogus: 1\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
        let cfg = KubeSchedulerConfiguration::parse(
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- plugins:\n    filter:\n      disabled: [{name: Nope}]\n",
        )
        .unwrap();
        let err = cfg.profiles().unwrap_err();
        assert!(
            err.to_string().contains("plugin \"Nope\" does not exist"),
            "{err}"
        );
    }
}
