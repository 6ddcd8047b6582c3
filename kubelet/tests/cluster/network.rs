//! Scenarios about the cluster itself (owned by the `cluster` work): every node's containerd
//! answers CRI, the test network is as the harness promises (node routes, no way out).

use std::time::Duration;

use anyhow::{ensure, Result};

use crate::{Ctx, Scenario};

pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "network: every node's containerd answers CRI Version",
        run: |ctx| Box::pin(containerd_answers(ctx)),
        timeout: Duration::from_secs(30),
    },
    Scenario {
        name: "network: nodes reach each other and nothing outside",
        run: |ctx| Box::pin(nodes_reach_each_other(ctx)),
        timeout: Duration::from_secs(30),
    },
    Scenario {
        name: "network: every node pulls busybox from the local registry",
        run: |ctx| Box::pin(nodes_pull_busybox(ctx)),
        timeout: Duration::from_secs(60),
    },
];

async fn nodes_pull_busybox(ctx: &mut Ctx) -> Result<()> {
    use k8s_cri::v1::{ImageSpec, PullImageRequest};
    for node in &ctx.cluster.nodes {
        let (_, mut images) = e2e::node::cri_connect(&node.containerd_socket).await?;
        let image_ref = images
            .pull_image(PullImageRequest {
                image: Some(ImageSpec {
                    image: e2e::node::BUSYBOX_IMAGE.into(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .map_err(|e| anyhow::anyhow!("node {}: PullImage: {e}", node.name))?
            .into_inner()
            .image_ref;
        ensure!(
            image_ref.starts_with("sha256:"),
            "node {}: image ref {image_ref}",
            node.name
        );
    }
    Ok(())
}

async fn containerd_answers(ctx: &mut Ctx) -> Result<()> {
    for node in &ctx.cluster.nodes {
        let v = e2e::node::cri_version(&node.containerd_socket).await?;
        ensure!(
            v.starts_with("containerd "),
            "node {}: runtime {v}",
            node.name
        );
    }
    Ok(())
}

async fn nodes_reach_each_other(ctx: &mut Ctx) -> Result<()> {
    let host = ctx.cluster.host_ip.to_string();
    for node in &ctx.cluster.nodes {
        let routes = node.exec(&["ip", "-4", "route"]).await?;
        ensure!(
            !routes.contains("default"),
            "node {} has a default route: {routes}",
            node.name
        );
        for other in &ctx.cluster.nodes {
            if other.name == node.name {
                continue;
            }
            let via = format!("{} via {}", other.pod_cidr, other.ip);
            ensure!(
                routes.contains(&via),
                "node {} lacks `{via}`: {routes}",
                node.name
            );
            node.exec(&[
                "busybox",
                "ping",
                "-c",
                "1",
                "-W",
                "2",
                &other.ip.to_string(),
            ])
            .await?;
        }
        // The apiserver's address (the bridge) answers from inside every node.
        node.exec(&["busybox", "ping", "-c", "1", "-W", "2", &host])
            .await?;
        // An address outside the test network has no route from a node.
        let out = node
            .command("ip")
            .args(["-4", "route", "get", "192.0.2.1"])
            .output()
            .await?;
        ensure!(
            !out.status.success(),
            "node {} has a route out: {}",
            node.name,
            String::from_utf8_lossy(&out.stdout)
        );
    }
    Ok(())
}
