//! The cluster-administration groups: RoleBindings and ClusterRoleBindings (rbac),
//! CertificateSigningRequests (certificates.k8s.io), Leases (coordination.k8s.io) and
//! PriorityClasses (scheduling.k8s.io).

use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};

use super::cells::*;
use super::{age_cell, age_col, col, doc, name_cell, name_col, wide, Column, Printer};

fn role_binding_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let role = format!("{}/{}", s(obj, "/roleRef/kind"), s(obj, "/roleRef/name"));
    let (users, groups, sas) = subjects(list(obj, "/subjects"));
    vec![
        name_cell(obj),
        json!(role),
        age_cell(obj, now),
        json!(users.join(", ")),
        json!(groups.join(", ")),
        json!(sas.join(", ")),
    ]
}

#[rustfmt::skip]
fn role_binding_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Role", "string", doc::RB_ROLE),
        age_col(),
        wide("Users", "string", "Users in the roleBinding"),
        wide("Groups", "string", "Groups in the roleBinding"),
        wide("ServiceAccounts", "string", "ServiceAccounts in the roleBinding"),
    ]
}

pub(super) const ROLE_BINDING: Printer = Printer {
    columns: role_binding_columns,
    row: role_binding_row,
};

#[rustfmt::skip]
fn cluster_role_binding_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Role", "string", doc::CRB_ROLE),
        age_col(),
        wide("Users", "string", "Users in the clusterRoleBinding"),
        wide("Groups", "string", "Groups in the clusterRoleBinding"),
        wide("ServiceAccounts", "string", "ServiceAccounts in the clusterRoleBinding"),
    ]
}

pub(super) const CLUSTER_ROLE_BINDING: Printer = Printer {
    columns: cluster_role_binding_columns,
    row: role_binding_row,
};

fn certificate_signing_request_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let signer = str_or(obj, "/spec/signerName", "<none>");
    let requested = match n(obj, "/spec/expirationSeconds") {
        Some(secs) => human_duration(SignedDuration::from_secs(secs)),
        None => "<none>".into(),
    };
    vec![
        name_cell(obj),
        age_cell(obj, now),
        json!(signer),
        json!(s(obj, "/spec/username")),
        json!(requested),
        json!(csr_condition(obj)),
    ]
}

#[rustfmt::skip]
fn certificate_signing_request_columns() -> Vec<Column> {
    vec![
        name_col(),
        age_col(),
        col("SignerName", "string", doc::CSR_SIGNER),
        col("Requestor", "string", doc::CSR_REQUEST),
        col("RequestedDuration", "string", doc::CSR_EXPIRATION),
        col("Condition", "string", doc::CSR_CONDITIONS),
    ]
}

pub(super) const CERTIFICATE_SIGNING_REQUEST: Printer = Printer {
    columns: certificate_signing_request_columns,
    row: certificate_signing_request_row,
};

fn lease_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name_cell(obj),
        json!(s(obj, "/spec/holderIdentity")),
        age_cell(obj, now),
    ]
}

#[rustfmt::skip]
fn lease_columns() -> Vec<Column> {
    vec![name_col(), col("Holder", "string", doc::LEASE_HOLDER), age_col()]
}

pub(super) const LEASE: Printer = Printer {
    columns: lease_columns,
    row: lease_row,
};

fn priority_class_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name_cell(obj),
        json!(n(obj, "/value").unwrap_or(0)),
        json!(obj
            .get("globalDefault")
            .and_then(Value::as_bool)
            .unwrap_or(false)),
        age_cell(obj, now),
        json!(s(obj, "/preemptionPolicy")),
    ]
}

#[rustfmt::skip]
fn priority_class_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Value", "integer", doc::PC_VALUE),
        col("Global-Default", "boolean", doc::PC_GLOBAL_DEFAULT),
        age_col(),
        col("PreemptionPolicy", "string", doc::PC_PREEMPTION),
    ]
}

pub(super) const PRIORITY_CLASS: Printer = Printer {
    columns: priority_class_columns,
    row: priority_class_row,
};

fn subjects(subjects: &[Value]) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut users, mut groups, mut sas) = (Vec::new(), Vec::new(), Vec::new());
    for subj in subjects {
        let name = s(subj, "/name").to_string();
        match s(subj, "/kind") {
            "ServiceAccount" => sas.push(format!("{}/{name}", s(subj, "/namespace"))),
            "User" => users.push(name),
            "Group" => groups.push(name),
            _ => {}
        }
    }
    (users, groups, sas)
}

fn csr_condition(csr: &Value) -> String {
    let conditions = list(csr, "/status/conditions");
    let has = |t: &str| conditions.iter().any(|c| s(c, "/type") == t);
    let mut status = if has("Denied") {
        "Denied"
    } else if has("Approved") {
        "Approved"
    } else {
        "Pending"
    }
    .to_string();
    if has("Failed") {
        status.push_str(",Failed");
    }
    if !s(csr, "/status/certificate").is_empty() {
        status.push_str(",Issued");
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::row;
    use crate::printers::testing::*;

    #[test]
    fn role_binding_rows() {
        let rb = json!({"metadata": {"name": "admins"}, "roleRef": {"kind": "ClusterRole", "name": "admin"},
            "subjects": [{"kind": "User", "name": "alice"}, {"kind": "Group", "name": "ops"},
                         {"kind": "ServiceAccount", "name": "ci", "namespace": "build"},
                         {"kind": "User", "name": "bob"}]});
        let r = row("rbac.authorization.k8s.io", "rolebindings", &rb, now());
        assert_eq!(r[1], "ClusterRole/admin");
        assert_eq!(
            &r[3..6],
            &[json!("alice, bob"), json!("ops"), json!("build/ci")]
        );
        let r = row(
            "rbac.authorization.k8s.io",
            "clusterrolebindings",
            &rb,
            now(),
        );
        assert_eq!(r[3], "alice, bob");
    }

    #[test]
    fn csr_row() {
        let csr = json!({"metadata": {"name": "csr-1", "creationTimestamp": ago(45)},
            "spec": {"signerName": "kubernetes.io/kube-apiserver-client", "username": "alice", "expirationSeconds": 86400},
            "status": {"conditions": [{"type": "Approved", "status": "True"}], "certificate": "LS0t"}});
        assert_eq!(
            row(
                "certificates.k8s.io",
                "certificatesigningrequests",
                &csr,
                now()
            ),
            vec![
                json!("csr-1"),
                json!("45s"),
                json!("kubernetes.io/kube-apiserver-client"),
                json!("alice"),
                json!("24h"),
                json!("Approved,Issued")
            ]
        );
        let denied = json!({"metadata": {"name": "c"}, "spec": {}, "status": {"conditions": [
            {"type": "Approved"}, {"type": "Denied"}, {"type": "Failed"}]}});
        let r = row(
            "certificates.k8s.io",
            "certificatesigningrequests",
            &denied,
            now(),
        );
        assert_eq!(
            &r[2..6],
            &[
                json!("<none>"),
                json!(""),
                json!("<none>"),
                json!("Denied,Failed")
            ]
        );
        let pending = json!({"metadata": {"name": "c"}});
        assert_eq!(
            cell(
                "certificates.k8s.io",
                "certificatesigningrequests",
                &pending,
                "Condition"
            ),
            "Pending"
        );
    }

    #[test]
    fn priority_class_row() {
        let pc = json!({"metadata": {"name": "system-cluster-critical", "creationTimestamp": ago(10)},
            "value": 2000000000, "globalDefault": false, "preemptionPolicy": "PreemptLowerPriority"});
        assert_eq!(
            row("scheduling.k8s.io", "priorityclasses", &pc, now()),
            vec![
                json!("system-cluster-critical"),
                json!(2000000000),
                json!(false),
                json!("10s"),
                json!("PreemptLowerPriority")
            ]
        );
    }
}
