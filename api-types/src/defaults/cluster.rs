//! RoleBindings and ClusterRoleBindings (rbac), CSIDrivers, StorageClasses (storage.k8s.io),
//! PriorityClasses (scheduling.k8s.io) and CertificateSigningRequests (certificates.k8s.io).

use serde_json::json;

use super::common::*;

pub(super) fn role_binding(o: &mut Obj) {
    if let Some(role_ref) = object(o, "roleRef") {
        default_str(role_ref, "apiGroup", "rbac.authorization.k8s.io");
    }
    for_each(o, "subjects", |s| {
        if unset_str(s.get("apiGroup")) {
            match str_of(s, "kind") {
                "ServiceAccount" => {
                    s.insert("apiGroup".into(), json!(""));
                }
                "User" | "Group" => {
                    s.insert("apiGroup".into(), json!("rbac.authorization.k8s.io"));
                }
                _ => {}
            }
        }
    });
}

pub(super) fn csi_driver(o: &mut Obj) {
    let Some(spec) = ensure_object(o, "spec") else {
        return;
    };
    default_value(spec, "attachRequired", json!(true));
    default_value(spec, "podInfoOnMount", json!(false));
    default_value(spec, "storageCapacity", json!(false));
    default_value(spec, "fsGroupPolicy", json!("ReadWriteOnceWithFSType"));
    if !non_empty_array(spec.get("volumeLifecycleModes")) {
        spec.insert("volumeLifecycleModes".into(), json!(["Persistent"]));
    }
    default_value(spec, "requiresRepublish", json!(false));
    default_value(spec, "seLinuxMount", json!(false));
}

pub(super) fn priority_class(o: &mut Obj) {
    default_str(o, "preemptionPolicy", "PreemptLowerPriority");
}

pub(super) fn storage_class(o: &mut Obj) {
    default_str(o, "reclaimPolicy", "Delete");
    default_str(o, "volumeBindingMode", "Immediate");
}

pub(super) fn certificate_signing_request(o: &mut Obj) {
    if let Some(status) = object(o, "status") {
        for_each(status, "conditions", |c| default_str(c, "status", "True"));
    }
}

#[cfg(test)]
mod tests {

    use crate::defaults::testing::*;
    use serde_json::json;

    #[test]
    fn networking_rbac_scheduling_storage() {
        let np = defaulted(
            "networking.k8s.io",
            "networkpolicies",
            json!({"spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]}}),
        );
        assert_eq!(np["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
        assert_eq!(np["spec"]["egress"][0]["ports"][0]["protocol"], "TCP");
        let ingress_only = defaulted(
            "networking.k8s.io",
            "networkpolicies",
            json!({"spec": {"podSelector": {}}}),
        );
        assert_eq!(ingress_only["spec"]["policyTypes"], json!(["Ingress"]));

        let class = defaulted(
            "networking.k8s.io",
            "ingressclasses",
            json!({"spec": {"controller": "x", "parameters": {"kind": "K", "name": "n"}}}),
        );
        assert_eq!(class["spec"]["parameters"]["scope"], "Cluster");

        let rb = defaulted(
            "rbac.authorization.k8s.io",
            "rolebindings",
            json!({"roleRef": {"kind": "Role", "name": "r"}, "subjects": [
                {"kind": "ServiceAccount", "name": "sa", "namespace": "default"},
                {"kind": "User", "name": "alice"},
                {"kind": "Group", "name": "devs", "apiGroup": "example.com"}
            ]}),
        );
        assert_eq!(rb["roleRef"]["apiGroup"], "rbac.authorization.k8s.io");
        assert_eq!(rb["subjects"][0]["apiGroup"], "");
        assert_eq!(rb["subjects"][1]["apiGroup"], "rbac.authorization.k8s.io");
        assert_eq!(rb["subjects"][2]["apiGroup"], "example.com");

        let pc = defaulted(
            "scheduling.k8s.io",
            "priorityclasses",
            json!({"value": 1000}),
        );
        assert_eq!(pc["preemptionPolicy"], "PreemptLowerPriority");

        let sc = defaulted(
            "storage.k8s.io",
            "storageclasses",
            json!({"provisioner": "x"}),
        );
        assert_eq!(sc["reclaimPolicy"], "Delete");
        assert_eq!(sc["volumeBindingMode"], "Immediate");

        let csi = defaulted("storage.k8s.io", "csidrivers", json!({"spec": {}}));
        assert_eq!(csi["spec"]["attachRequired"], true);
        assert_eq!(csi["spec"]["podInfoOnMount"], false);
        assert_eq!(csi["spec"]["volumeLifecycleModes"], json!(["Persistent"]));
        assert_eq!(csi["spec"]["fsGroupPolicy"], "ReadWriteOnceWithFSType");

        let csr = defaulted(
            "certificates.k8s.io",
            "certificatesigningrequests",
            json!({"status": {"conditions": [{"type": "Approved"}]}}),
        );
        assert_eq!(csr["status"]["conditions"][0]["status"], "True");
    }
}
