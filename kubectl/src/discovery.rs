//! Resource discovery and name resolution as upstream kubectl does it: `/api`, `/apis` and the
//! group versions' APIResourceLists turn `po`, `pods`, `Pod`, `deploy`, `deployments.apps` or
//! `deployments.v1.apps` into a resource; the api-types table stands in when discovery fails.

use std::collections::HashMap;

use serde::Deserialize;

use crate::rest::{Rest, RestError};

/// One resource type the server serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub namespaced: bool,
    pub verbs: Vec<String>,
    pub categories: Vec<String>,
}

impl ResourceType {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `pod` or `deployment.apps`: how upstream prefixes names (`-o name`, messages).
    pub fn kind_prefix(&self) -> String {
        let kind = self.kind.to_lowercase();
        if self.group.is_empty() {
            kind
        } else {
            format!("{kind}.{}", self.group)
        }
    }

    /// `pods` or `deployments.apps`.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The collection path, in `namespace` when the resource is namespaced and one is given.
    pub fn collection_path(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) if self.namespaced => format!("{base}/namespaces/{ns}/{}", self.plural),
            _ => format!("{base}/{}", self.plural),
        }
    }

    /// The path of one object.
    pub fn object_path(&self, namespace: Option<&str>, name: &str) -> String {
        format!("{}/{}", self.collection_path(namespace), name)
    }

    pub(crate) fn from_table(info: &api_types::resources::ResourceInfo) -> Self {
        ResourceType {
            group: info.group.to_string(),
            version: info.version.to_string(),
            kind: info.kind.to_string(),
            plural: info.plural.to_string(),
            singular: info.singular.to_string(),
            short_names: info.short_names.iter().map(|s| s.to_string()).collect(),
            namespaced: info.namespaced,
            verbs: info.verbs.iter().map(|s| s.to_string()).collect(),
            categories: info.categories.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Whether `name` (lowercased) names this resource.
    fn matches(&self, name: &str) -> bool {
        self.plural == name
            || self.singular == name
            || self.kind.to_lowercase() == name
            || self.short_names.iter().any(|s| s == name)
    }
}

/// Errors resolving names.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("the server doesn't have a resource type \"{0}\"")]
    UnknownResource(String),
    #[error("no matches for kind \"{kind}\" in version \"{api_version}\"")]
    UnknownKind { kind: String, api_version: String },
    #[error(transparent)]
    Rest(#[from] RestError),
}

#[derive(Deserialize)]
struct ApiGroupList {
    #[serde(default)]
    groups: Vec<ApiGroup>,
}

#[derive(Deserialize)]
struct ApiGroup {
    name: String,
    #[serde(default)]
    versions: Vec<GroupVersionEntry>,
    #[serde(rename = "preferredVersion")]
    preferred: Option<GroupVersionEntry>,
}

#[derive(Deserialize, Clone)]
struct GroupVersionEntry {
    version: String,
}

#[derive(Deserialize)]
struct ApiVersions {
    #[serde(default)]
    versions: Vec<String>,
}

#[derive(Deserialize)]
struct ApiResourceList {
    #[serde(default)]
    resources: Vec<ApiResource>,
}

#[derive(Deserialize)]
struct ApiResource {
    name: String,
    #[serde(default, rename = "singularName")]
    singular: String,
    #[serde(default)]
    namespaced: bool,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    verbs: Vec<String>,
    #[serde(default, rename = "shortNames")]
    short_names: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
}

/// A group with its versions, preferred first.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub versions: Vec<String>,
}

/// Discovery results, fetched lazily and kept for the life of the command.
pub struct Discovery {
    rest: Rest,
    groups: Option<Vec<Group>>,
    lists: HashMap<String, Vec<ResourceType>>,
    /// Discovery failed: answer from the api-types table.
    offline: bool,
}

impl Discovery {
    pub fn new(rest: Rest) -> Self {
        Discovery {
            rest,
            groups: None,
            lists: HashMap::new(),
            offline: false,
        }
    }

    /// Every group, the core group (named "") first.
    pub async fn groups(&mut self) -> Result<Vec<Group>, DiscoveryError> {
        if let Some(g) = &self.groups {
            return Ok(g.clone());
        }
        let fetched = async {
            let core: ApiVersions = parse(self.rest.get("/api").await?)?;
            let named: ApiGroupList = parse(self.rest.get("/apis").await?)?;
            let mut groups = vec![Group {
                name: String::new(),
                versions: core.versions,
            }];
            for g in named.groups {
                let mut versions: Vec<String> = Vec::new();
                if let Some(p) = &g.preferred {
                    versions.push(p.version.clone());
                }
                for v in g.versions {
                    if !versions.contains(&v.version) {
                        versions.push(v.version);
                    }
                }
                groups.push(Group {
                    name: g.name,
                    versions,
                });
            }
            Ok::<_, RestError>(groups)
        }
        .await;
        let groups = match fetched {
            Ok(g) => g,
            Err(e @ (RestError::Connect(_) | RestError::Refused(_))) => return Err(e.into()),
            Err(_) => {
                self.offline = true;
                let mut groups = vec![Group {
                    name: String::new(),
                    versions: vec!["v1".to_string()],
                }];
                for g in api_types::resources::groups() {
                    groups.push(Group {
                        name: g.group.to_string(),
                        versions: g.versions.iter().map(|v| v.to_string()).collect(),
                    });
                }
                groups
            }
        };
        self.groups = Some(groups.clone());
        Ok(groups)
    }

    /// The resources (not subresources) of one group version.
    pub async fn resources_in(
        &mut self,
        group: &str,
        version: &str,
    ) -> Result<Vec<ResourceType>, DiscoveryError> {
        let key = format!("{group}/{version}");
        if let Some(l) = self.lists.get(&key) {
            return Ok(l.clone());
        }
        let list = self.fetch_list(group, version).await?;
        self.lists.insert(key, list.clone());
        Ok(list)
    }

    async fn fetch_list(
        &self,
        group: &str,
        version: &str,
    ) -> Result<Vec<ResourceType>, DiscoveryError> {
        let table = || {
            api_types::resources::resources_in(group, version)
                .map(ResourceType::from_table)
                .collect::<Vec<_>>()
        };
        if self.offline {
            return Ok(table());
        }
        let path = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        let list: ApiResourceList = match self.rest.get(&path).await {
            Ok(b) => parse(b)?,
            Err(e @ (RestError::Connect(_) | RestError::Refused(_))) => return Err(e.into()),
            Err(_) => return Ok(table()),
        };
        Ok(list
            .resources
            .into_iter()
            .filter(|r| !r.name.contains('/'))
            .map(|r| ResourceType {
                singular: if r.singular.is_empty() {
                    r.kind.to_lowercase()
                } else {
                    r.singular
                },
                group: r.group.unwrap_or_else(|| group.to_string()),
                version: r.version.unwrap_or_else(|| version.to_string()),
                kind: r.kind,
                plural: r.name,
                short_names: r.short_names,
                namespaced: r.namespaced,
                verbs: r.verbs,
                categories: r.categories,
            })
            .collect())
    }

    /// Every resource at each group's preferred version, in discovery order.
    pub async fn preferred_resources(&mut self) -> Result<Vec<ResourceType>, DiscoveryError> {
        let groups = self.groups().await?;
        let wanted: Vec<(String, String)> = groups
            .iter()
            .filter_map(|g| g.versions.first().map(|v| (g.name.clone(), v.clone())))
            .collect();
        self.prefetch(&wanted).await?;
        let mut out = Vec::new();
        for (g, v) in wanted {
            out.extend(self.resources_in(&g, &v).await?);
        }
        Ok(out)
    }

    /// Fetches several group versions' lists at once.
    async fn prefetch(&mut self, gvs: &[(String, String)]) -> Result<(), DiscoveryError> {
        let missing: Vec<&(String, String)> = gvs
            .iter()
            .filter(|(g, v)| !self.lists.contains_key(&format!("{g}/{v}")))
            .collect();
        let this = &*self;
        let fetched =
            futures::future::join_all(missing.iter().map(|(g, v)| this.fetch_list(g, v))).await;
        for ((g, v), list) in missing.into_iter().zip(fetched) {
            let list = list?;
            self.lists.insert(format!("{g}/{v}"), list);
        }
        Ok(())
    }

    /// Resolves a resource name as typed on the command line. `all` (and other categories)
    /// expand to several resources.
    pub async fn resolve(&mut self, input: &str) -> Result<Vec<ResourceType>, DiscoveryError> {
        let name = input.to_lowercase();
        // Fast path: the core group answers most names.
        if !name.contains('.') {
            let groups = self.groups().await?;
            if let Some(v) = groups
                .iter()
                .find(|g| g.name.is_empty())
                .and_then(|g| g.versions.first().cloned())
            {
                let core = self.resources_in("", &v).await?;
                if let Some(r) = core.iter().find(|r| r.matches(&name)) {
                    return Ok(vec![r.clone()]);
                }
            }
        }
        let all = self.preferred_resources().await?;
        if let Some((res, rest)) = name.split_once('.') {
            // resource.version.group or resource.group
            if let Some((version, group)) = rest.split_once('.') {
                let groups = self.groups().await?;
                if groups
                    .iter()
                    .any(|g| g.name == group && g.versions.iter().any(|v| v == version))
                {
                    let list = self.resources_in(group, version).await?;
                    if let Some(r) = list.iter().find(|r| r.matches(res)) {
                        return Ok(vec![r.clone()]);
                    }
                }
            }
            if let Some(r) = all.iter().find(|r| r.group == rest && r.matches(res)) {
                return Ok(vec![r.clone()]);
            }
            // A group given by its first label(s), as upstream allows (`deploy.apps`).
            if let Some(r) = all.iter().find(|r| {
                r.matches(res) && (r.group.starts_with(&format!("{rest}.")) || r.group == rest)
            }) {
                return Ok(vec![r.clone()]);
            }
        } else {
            if let Some(r) = all.iter().find(|r| r.matches(&name)) {
                return Ok(vec![r.clone()]);
            }
            let in_category: Vec<ResourceType> = all
                .iter()
                .filter(|r| r.categories.iter().any(|c| c == &name))
                .cloned()
                .collect();
            if !in_category.is_empty() {
                return Ok(in_category);
            }
        }
        Err(DiscoveryError::UnknownResource(input.to_string()))
    }

    /// The resource serving `kind` at `apiVersion` (for manifests).
    pub async fn for_kind(
        &mut self,
        api_version: &str,
        kind: &str,
    ) -> Result<ResourceType, DiscoveryError> {
        let (group, version) = api_types::resources::split_api_version(api_version);
        let unknown = || DiscoveryError::UnknownKind {
            kind: kind.to_string(),
            api_version: api_version.to_string(),
        };
        let groups = self.groups().await?;
        if !groups
            .iter()
            .any(|g| g.name == group && g.versions.iter().any(|v| v == version))
        {
            return Err(unknown());
        }
        let list = self.resources_in(group, version).await?;
        list.into_iter()
            .find(|r| r.kind == kind)
            .ok_or_else(unknown)
    }
}

fn parse<T: serde::de::DeserializeOwned>(bytes: bytes::Bytes) -> Result<T, RestError> {
    serde_json::from_slice(&bytes).map_err(|e| RestError::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(group: &str, kind: &str, plural: &str, short: &[&str]) -> ResourceType {
        ResourceType {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
            plural: plural.into(),
            singular: kind.to_lowercase(),
            short_names: short.iter().map(|s| s.to_string()).collect(),
            namespaced: true,
            verbs: vec![],
            categories: vec![],
        }
    }

    #[test]
    fn names_and_paths() {
        let d = rt("apps", "Deployment", "deployments", &["deploy"]);
        assert!(d.matches("deploy") && d.matches("deployment") && d.matches("deployments"));
        assert_eq!(d.kind_prefix(), "deployment.apps");
        assert_eq!(d.qualified_plural(), "deployments.apps");
        assert_eq!(
            d.object_path(Some("ns"), "x"),
            "/apis/apps/v1/namespaces/ns/deployments/x"
        );
        let p = rt("", "Pod", "pods", &["po"]);
        assert_eq!(p.collection_path(None), "/api/v1/pods");
        assert_eq!(p.kind_prefix(), "pod");
    }
}
