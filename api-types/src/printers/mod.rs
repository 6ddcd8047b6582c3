//! Server-side table printing: the columns `kubectl get` shows for each resource and the
//! cells of one object's row, computed the way upstream kube-apiserver's printers compute them
//! (always in wide form: kubectl hides priority-1 columns unless `-o wide`).
//!
//! Objects are read as JSON. events.k8s.io/v1 Events and autoscaling/v1 HPAs are converted to
//! core/v1 and autoscaling/v2 first, as upstream prints both from one internal type.
//! Resources without an upstream printer get the default `Name` / `Created At` table.
//! Quantities print in canonical form, as upstream's `Quantity.String()` does.

use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};

use crate::convert;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    /// `string`, `integer`, `number`, `boolean` or `date`.
    pub type_: &'static str,
    /// `name` for the name column, otherwise empty.
    pub format: &'static str,
    pub description: &'static str,
    /// 0 for default columns, 1 for `-o wide` only.
    pub priority: i32,
}

impl Column {
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.type_,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

/// A default (priority 0) column.
const fn col(name: &'static str, type_: &'static str, description: &'static str) -> Column {
    Column {
        name,
        type_,
        format: "",
        description,
        priority: 0,
    }
}

/// A `-o wide` (priority 1) column.
const fn wide(name: &'static str, type_: &'static str, description: &'static str) -> Column {
    Column {
        name,
        type_,
        format: "",
        description,
        priority: 1,
    }
}

const fn name_col() -> Column {
    Column {
        name: "Name",
        type_: "string",
        format: "name",
        description: doc::NAME,
        priority: 0,
    }
}

const fn age_col() -> Column {
    col("Age", "string", doc::CREATED)
}

const CONTAINERS: &str = "Names of each container in the template.";
const IMAGES: &str = "Images referenced by each container in the template.";

/// Which upstream printer a resource uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Printer {
    Pod,
    PodTemplate,
    PodDisruptionBudget,
    ReplicationController,
    ReplicaSet,
    DaemonSet,
    Job,
    CronJob,
    Service,
    Ingress,
    IngressClass,
    StatefulSet,
    Endpoints,
    Node,
    Event,
    Namespace,
    Secret,
    ServiceAccount,
    PersistentVolume,
    PersistentVolumeClaim,
    Deployment,
    HorizontalPodAutoscaler,
    ConfigMap,
    NetworkPolicy,
    RoleBinding,
    ClusterRoleBinding,
    CertificateSigningRequest,
    Lease,
    StorageClass,
    ControllerRevision,
    ResourceQuota,
    PriorityClass,
    VolumeAttachment,
    EndpointSlice,
    CsiNode,
    CsiDriver,
    CsiStorageCapacity,
    Default,
}

fn printer(group: &str, plural: &str) -> Printer {
    use Printer::*;
    match (group, plural) {
        ("", "pods") => Pod,
        ("", "podtemplates") => PodTemplate,
        ("policy", "poddisruptionbudgets") => PodDisruptionBudget,
        ("", "replicationcontrollers") => ReplicationController,
        ("apps", "replicasets") => ReplicaSet,
        ("apps", "daemonsets") => DaemonSet,
        ("batch", "jobs") => Job,
        ("batch", "cronjobs") => CronJob,
        ("", "services") => Service,
        ("networking.k8s.io", "ingresses") => Ingress,
        ("networking.k8s.io", "ingressclasses") => IngressClass,
        ("apps", "statefulsets") => StatefulSet,
        ("", "endpoints") => Endpoints,
        ("", "nodes") => Node,
        ("", "events") | ("events.k8s.io", "events") => Event,
        ("", "namespaces") => Namespace,
        ("", "secrets") => Secret,
        ("", "serviceaccounts") => ServiceAccount,
        ("", "persistentvolumes") => PersistentVolume,
        ("", "persistentvolumeclaims") => PersistentVolumeClaim,
        ("apps", "deployments") => Deployment,
        ("autoscaling", "horizontalpodautoscalers") => HorizontalPodAutoscaler,
        ("", "configmaps") => ConfigMap,
        ("networking.k8s.io", "networkpolicies") => NetworkPolicy,
        ("rbac.authorization.k8s.io", "rolebindings") => RoleBinding,
        ("rbac.authorization.k8s.io", "clusterrolebindings") => ClusterRoleBinding,
        ("certificates.k8s.io", "certificatesigningrequests") => CertificateSigningRequest,
        ("coordination.k8s.io", "leases") => Lease,
        ("storage.k8s.io", "storageclasses") => StorageClass,
        ("apps", "controllerrevisions") => ControllerRevision,
        ("", "resourcequotas") => ResourceQuota,
        ("scheduling.k8s.io", "priorityclasses") => PriorityClass,
        ("storage.k8s.io", "volumeattachments") => VolumeAttachment,
        ("discovery.k8s.io", "endpointslices") => EndpointSlice,
        ("storage.k8s.io", "csinodes") => CsiNode,
        ("storage.k8s.io", "csidrivers") => CsiDriver,
        ("storage.k8s.io", "csistoragecapacities") => CsiStorageCapacity,
        _ => Default,
    }
}

/// The columns for `group`/`plural`.
pub fn columns(group: &str, plural: &str) -> Vec<Column> {
    use Printer::*;
    match printer(group, plural) {
        Pod => vec![
            name_col(),
            col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
            col("Status", "string", "The aggregate status of the containers in this pod."),
            col("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
            age_col(),
            wide("IP", "string", doc::POD_IP),
            wide("Node", "string", doc::POD_NODE),
            wide("Nominated Node", "string", doc::POD_NOMINATED),
            wide("Readiness Gates", "string", doc::POD_READINESS_GATES),
        ],
        PodTemplate => vec![
            name_col(),
            col("Containers", "string", CONTAINERS),
            col("Images", "string", IMAGES),
            col("Pod Labels", "string", "The labels for the pod template."),
        ],
        PodDisruptionBudget => vec![
            name_col(),
            col("Min Available", "string", "The minimum number of pods that must be available."),
            col("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
            col("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
            age_col(),
        ],
        ReplicationController => vec![
            name_col(),
            col("Desired", "integer", doc::RC_DESIRED),
            col("Current", "integer", doc::RC_CURRENT),
            col("Ready", "integer", doc::RC_READY),
            age_col(),
            wide("Containers", "string", CONTAINERS),
            wide("Images", "string", IMAGES),
            wide("Selector", "string", doc::RC_SELECTOR),
        ],
        ReplicaSet => vec![
            name_col(),
            col("Desired", "integer", doc::RS_DESIRED),
            col("Current", "integer", doc::RS_CURRENT),
            col("Ready", "integer", doc::RS_READY),
            age_col(),
            wide("Containers", "string", CONTAINERS),
            wide("Images", "string", IMAGES),
            wide("Selector", "string", doc::RS_SELECTOR),
        ],
        DaemonSet => vec![
            name_col(),
            col("Desired", "integer", doc::DS_DESIRED),
            col("Current", "integer", doc::DS_CURRENT),
            col("Ready", "integer", doc::DS_READY),
            col("Up-to-date", "integer", doc::DS_UPDATED),
            col("Available", "integer", doc::DS_AVAILABLE),
            col("Node Selector", "string", doc::POD_NODE_SELECTOR),
            age_col(),
            wide("Containers", "string", CONTAINERS),
            wide("Images", "string", IMAGES),
            wide("Selector", "string", doc::DS_SELECTOR),
        ],
        Job => vec![
            name_col(),
            col("Status", "string", "Status of the job."),
            col("Completions", "string", doc::JOB_SUCCEEDED),
            col("Duration", "string", "Time required to complete the job."),
            age_col(),
            wide("Containers", "string", CONTAINERS),
            wide("Images", "string", IMAGES),
            wide("Selector", "string", doc::JOB_SELECTOR),
        ],
        CronJob => vec![
            name_col(),
            col("Schedule", "string", doc::CJ_SCHEDULE),
            col("Timezone", "string", doc::CJ_TIMEZONE),
            col("Suspend", "boolean", doc::CJ_SUSPEND),
            col("Active", "integer", doc::CJ_ACTIVE),
            col("Last Schedule", "string", doc::CJ_LAST_SCHEDULE),
            age_col(),
            wide("Containers", "string", CONTAINERS),
            wide("Images", "string", IMAGES),
            wide("Selector", "string", doc::JOB_SELECTOR),
        ],
        Service => vec![
            name_col(),
            col("Type", "string", doc::SVC_TYPE),
            col("Cluster-IP", "string", doc::SVC_CLUSTER_IP),
            col("External-IP", "string", doc::SVC_EXTERNAL_IPS),
            col("Port(s)", "string", doc::SVC_PORTS),
            age_col(),
            wide("Selector", "string", doc::SVC_SELECTOR),
        ],
        Ingress => vec![
            name_col(),
            col("Class", "string", "The name of the IngressClass resource that should be used for additional configuration"),
            col("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
            col("Address", "string", "Address is a list containing ingress points for the load-balancer"),
            col("Ports", "string", "Ports of TLS configurations that open"),
            age_col(),
        ],
        IngressClass => vec![
            name_col(),
            col("Controller", "string", "Controller that is responsible for handling this class"),
            col("Parameters", "string", "A reference to a resource with additional parameters"),
            age_col(),
        ],
        StatefulSet => vec![
            name_col(),
            col("Ready", "string", "Number of the pod with ready state"),
            age_col(),
            wide("Containers", "string", CONTAINERS),
            wide("Images", "string", IMAGES),
        ],
        Endpoints => vec![
            name_col(),
            col("Endpoints", "string", doc::EP_SUBSETS),
            age_col(),
        ],
        Node => vec![
            name_col(),
            col("Status", "string", "The status of the node"),
            col("Roles", "string", "The roles of the node"),
            age_col(),
            col("Version", "string", doc::NODE_KUBELET_VERSION),
            wide("Internal-IP", "string", doc::NODE_ADDRESSES),
            wide("External-IP", "string", doc::NODE_ADDRESSES),
            wide("OS-Image", "string", doc::NODE_OS_IMAGE),
            wide("Kernel-Version", "string", doc::NODE_KERNEL),
            wide("Container-Runtime", "string", doc::NODE_RUNTIME),
        ],
        Event => vec![
            col("Last Seen", "string", doc::EV_LAST),
            col("Type", "string", doc::EV_TYPE),
            col("Reason", "string", doc::EV_REASON),
            col("Object", "string", doc::EV_OBJECT),
            wide("Subobject", "string", doc::EV_FIELD_PATH),
            wide("Source", "string", doc::EV_SOURCE),
            col("Message", "string", doc::EV_MESSAGE),
            wide("First Seen", "string", doc::EV_FIRST),
            wide("Count", "string", doc::EV_COUNT),
            Column {
                format: "name",
                ..wide("Name", "string", doc::NAME)
            },
        ],
        Namespace => vec![
            name_col(),
            col("Status", "string", "The status of the namespace"),
            age_col(),
        ],
        Secret => vec![
            name_col(),
            col("Type", "string", doc::SECRET_TYPE),
            col("Data", "string", doc::SECRET_DATA),
            age_col(),
        ],
        ServiceAccount => vec![
            name_col(),
            col("Secrets", "string", doc::SA_SECRETS),
            age_col(),
        ],
        PersistentVolume => vec![
            name_col(),
            col("Capacity", "string", doc::PV_CAPACITY),
            col("Access Modes", "string", doc::PV_ACCESS_MODES),
            col("Reclaim Policy", "string", doc::PV_RECLAIM),
            col("Status", "string", doc::PV_PHASE),
            col("Claim", "string", doc::PV_CLAIM),
            col("StorageClass", "string", "StorageClass of the pv"),
            col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
            col("Reason", "string", doc::PV_REASON),
            age_col(),
            wide("VolumeMode", "string", doc::PV_VOLUME_MODE),
        ],
        PersistentVolumeClaim => vec![
            name_col(),
            col("Status", "string", doc::PVC_PHASE),
            col("Volume", "string", doc::PVC_VOLUME),
            col("Capacity", "string", doc::PVC_CAPACITY),
            col("Access Modes", "string", doc::PVC_ACCESS_MODES),
            col("StorageClass", "string", "StorageClass of the pvc"),
            col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
            age_col(),
            wide("VolumeMode", "string", doc::PVC_VOLUME_MODE),
        ],
        Deployment => vec![
            name_col(),
            col("Ready", "string", "Number of the pod with ready state"),
            col("Up-to-date", "string", doc::DEPLOY_UPDATED),
            col("Available", "string", doc::DEPLOY_AVAILABLE),
            age_col(),
            wide("Containers", "string", CONTAINERS),
            wide("Images", "string", IMAGES),
            wide("Selector", "string", doc::DEPLOY_SELECTOR),
        ],
        HorizontalPodAutoscaler => vec![
            name_col(),
            col("Reference", "string", doc::HPA_REFERENCE),
            col("Targets", "string", doc::HPA_TARGETS),
            col("MinPods", "string", doc::HPA_MIN),
            col("MaxPods", "string", doc::HPA_MAX),
            col("Replicas", "string", doc::HPA_REPLICAS),
            age_col(),
        ],
        ConfigMap => vec![name_col(), col("Data", "string", doc::CM_DATA), age_col()],
        NetworkPolicy => vec![
            name_col(),
            col("Pod-Selector", "string", doc::NP_POD_SELECTOR),
            age_col(),
        ],
        RoleBinding => vec![
            name_col(),
            col("Role", "string", doc::RB_ROLE),
            age_col(),
            wide("Users", "string", "Users in the roleBinding"),
            wide("Groups", "string", "Groups in the roleBinding"),
            wide("ServiceAccounts", "string", "ServiceAccounts in the roleBinding"),
        ],
        ClusterRoleBinding => vec![
            name_col(),
            col("Role", "string", doc::CRB_ROLE),
            age_col(),
            wide("Users", "string", "Users in the clusterRoleBinding"),
            wide("Groups", "string", "Groups in the clusterRoleBinding"),
            wide("ServiceAccounts", "string", "ServiceAccounts in the clusterRoleBinding"),
        ],
        CertificateSigningRequest => vec![
            name_col(),
            age_col(),
            col("SignerName", "string", doc::CSR_SIGNER),
            col("Requestor", "string", doc::CSR_REQUEST),
            col("RequestedDuration", "string", doc::CSR_EXPIRATION),
            col("Condition", "string", doc::CSR_CONDITIONS),
        ],
        Lease => vec![name_col(), col("Holder", "string", doc::LEASE_HOLDER), age_col()],
        StorageClass => vec![
            name_col(),
            col("Provisioner", "string", doc::SC_PROVISIONER),
            col("ReclaimPolicy", "string", doc::SC_RECLAIM),
            col("VolumeBindingMode", "string", doc::SC_BINDING_MODE),
            col("AllowVolumeExpansion", "string", doc::SC_EXPANSION),
            age_col(),
        ],
        ControllerRevision => vec![
            name_col(),
            col("Controller", "string", "Controller of the object"),
            col("Revision", "string", doc::CR_REVISION),
            age_col(),
        ],
        ResourceQuota => vec![
            name_col(),
            col("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."),
            col("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
            age_col(),
        ],
        PriorityClass => vec![
            name_col(),
            col("Value", "integer", doc::PC_VALUE),
            col("Global-Default", "boolean", doc::PC_GLOBAL_DEFAULT),
            age_col(),
            col("PreemptionPolicy", "string", doc::PC_PREEMPTION),
        ],
        VolumeAttachment => vec![
            name_col(),
            // Upstream marks this column as a name column too.
            Column {
                format: "name",
                ..col("Attacher", "string", doc::VA_ATTACHER)
            },
            col("PV", "string", doc::VA_PV),
            col("Node", "string", doc::VA_NODE),
            col("Attached", "boolean", doc::VA_ATTACHED),
            age_col(),
        ],
        EndpointSlice => vec![
            name_col(),
            col("AddressType", "string", doc::EPS_ADDRESS_TYPE),
            col("Ports", "string", doc::EPS_PORTS),
            col("Endpoints", "string", doc::EPS_ENDPOINTS),
            age_col(),
        ],
        CsiNode => vec![
            name_col(),
            col("Drivers", "integer", "Drivers indicates the number of CSI drivers registered on the node"),
            age_col(),
        ],
        CsiDriver => vec![
            name_col(),
            col("AttachRequired", "boolean", doc::CSID_ATTACH),
            col("PodInfoOnMount", "boolean", doc::CSID_POD_INFO),
            col("StorageCapacity", "boolean", doc::CSID_CAPACITY),
            col("TokenRequests", "string", doc::CSID_TOKENS),
            col("RequiresRepublish", "boolean", doc::CSID_REPUBLISH),
            col("Modes", "string", doc::CSID_MODES),
            age_col(),
        ],
        CsiStorageCapacity => vec![
            name_col(),
            col("StorageClassName", "string", doc::CSC_CLASS),
            col("Capacity", "string", doc::CSC_CAPACITY),
        ],
        Default => vec![name_col(), col("Created At", "date", doc::CREATED)],
    }
}

/// The cells of `obj`'s row, one per column, computed at `now`.
pub fn row(group: &str, plural: &str, obj: &Value, now: Timestamp) -> Vec<Value> {
    use Printer::*;
    let name = || Value::String(s(obj, "/metadata/name").to_string());
    let age = || Value::String(age(obj, now));
    match printer(group, plural) {
        Pod => {
            let p = pod_summary(obj, now);
            let or_none = |v: &str| none_if_empty(v.to_string());
            let ip = list(obj, "/status/podIPs")
                .first()
                .map(|ip| s(ip, "/ip"))
                .filter(|ip| !ip.is_empty())
                .unwrap_or_else(|| s(obj, "/status/podIP"));
            vec![
                name(),
                json!(p.ready),
                json!(p.status),
                json!(p.restarts),
                age(),
                json!(or_none(ip)),
                json!(or_none(s(obj, "/spec/nodeName"))),
                json!(or_none(s(obj, "/status/nominatedNodeName"))),
                json!(readiness_gates(obj)),
            ]
        }
        PodTemplate => {
            let (names, images) = containers(list(obj, "/template/spec/containers"));
            vec![
                name(),
                json!(names),
                json!(images),
                json!(format_labels(obj.pointer("/template/metadata/labels"))),
            ]
        }
        PodDisruptionBudget => vec![
            name(),
            json!(int_or_string(obj.pointer("/spec/minAvailable")).unwrap_or("N/A".into())),
            json!(int_or_string(obj.pointer("/spec/maxUnavailable")).unwrap_or("N/A".into())),
            json!(n(obj, "/status/disruptionsAllowed").unwrap_or(0)),
            age(),
        ],
        ReplicationController => {
            let (names, images) = containers(list(obj, "/spec/template/spec/containers"));
            vec![
                name(),
                json!(n(obj, "/spec/replicas").unwrap_or(1)),
                json!(n(obj, "/status/replicas").unwrap_or(0)),
                json!(n(obj, "/status/readyReplicas").unwrap_or(0)),
                age(),
                json!(names),
                json!(images),
                json!(format_labels(obj.pointer("/spec/selector"))),
            ]
        }
        ReplicaSet => {
            let (names, images) = containers(list(obj, "/spec/template/spec/containers"));
            vec![
                name(),
                json!(n(obj, "/spec/replicas").unwrap_or(1)),
                json!(n(obj, "/status/replicas").unwrap_or(0)),
                json!(n(obj, "/status/readyReplicas").unwrap_or(0)),
                age(),
                json!(names),
                json!(images),
                json!(format_label_selector(obj.pointer("/spec/selector"))),
            ]
        }
        DaemonSet => {
            let (names, images) = containers(list(obj, "/spec/template/spec/containers"));
            let st = |f: &str| json!(n(obj, &format!("/status/{f}")).unwrap_or(0));
            vec![
                name(),
                st("desiredNumberScheduled"),
                st("currentNumberScheduled"),
                st("numberReady"),
                st("updatedNumberScheduled"),
                st("numberAvailable"),
                json!(format_labels(
                    obj.pointer("/spec/template/spec/nodeSelector")
                )),
                age(),
                json!(names),
                json!(images),
                json!(format_label_selector(obj.pointer("/spec/selector"))),
            ]
        }
        Job => {
            let (names, images) = containers(list(obj, "/spec/template/spec/containers"));
            vec![
                name(),
                json!(job_status(obj)),
                json!(job_completions(obj)),
                json!(job_duration(obj, now)),
                age(),
                json!(names),
                json!(images),
                json!(format_label_selector(obj.pointer("/spec/selector"))),
            ]
        }
        CronJob => {
            let (names, images) =
                containers(list(obj, "/spec/jobTemplate/spec/template/spec/containers"));
            let last = match ts(obj, "/status/lastScheduleTime") {
                Some(t) => translate_timestamp_since(Some(t), now),
                None => "<none>".to_string(),
            };
            let tz = obj
                .pointer("/spec/timeZone")
                .and_then(Value::as_str)
                .unwrap_or("<none>");
            vec![
                name(),
                json!(s(obj, "/spec/schedule")),
                json!(tz),
                json!(bool_ptr(obj.pointer("/spec/suspend"))),
                json!(list(obj, "/status/active").len()),
                json!(last),
                age(),
                json!(names),
                json!(images),
                json!(format_label_selector(
                    obj.pointer("/spec/jobTemplate/spec/selector")
                )),
            ]
        }
        Service => {
            let cluster_ip = list(obj, "/spec/clusterIPs")
                .first()
                .and_then(Value::as_str)
                .or_else(|| obj.pointer("/spec/clusterIP").and_then(Value::as_str))
                .filter(|ip| !ip.is_empty())
                .unwrap_or("<none>");
            vec![
                name(),
                json!(service_type(obj)),
                json!(cluster_ip),
                json!(service_external_ip(obj)),
                json!(none_if_empty(service_ports(obj))),
                age(),
                json!(format_labels(obj.pointer("/spec/selector"))),
            ]
        }
        Ingress => {
            let class = obj
                .pointer("/spec/ingressClassName")
                .and_then(Value::as_str)
                .unwrap_or("<none>");
            let ports = if list(obj, "/spec/tls").is_empty() {
                "80"
            } else {
                "80, 443"
            };
            vec![
                name(),
                json!(class),
                json!(ingress_hosts(list(obj, "/spec/rules"))),
                json!(load_balancer_addresses(list(
                    obj,
                    "/status/loadBalancer/ingress"
                ))),
                json!(ports),
                age(),
            ]
        }
        IngressClass => {
            let params = match obj.pointer("/spec/parameters").filter(|p| p.is_object()) {
                Some(p) => {
                    let mut out = s(p, "/kind").to_string();
                    if let Some(g) = p.get("apiGroup").and_then(Value::as_str) {
                        out = format!("{out}.{g}");
                    }
                    format!("{out}/{}", s(p, "/name"))
                }
                None => "<none>".to_string(),
            };
            vec![
                name(),
                json!(s(obj, "/spec/controller")),
                json!(params),
                age(),
            ]
        }
        StatefulSet => {
            let (names, images) = containers(list(obj, "/spec/template/spec/containers"));
            let ready = n(obj, "/status/readyReplicas").unwrap_or(0);
            let desired = n(obj, "/spec/replicas").unwrap_or(1);
            vec![
                name(),
                json!(format!("{ready}/{desired}")),
                age(),
                json!(names),
                json!(images),
            ]
        }
        Endpoints => vec![name(), json!(format_endpoints(obj)), age()],
        Node => {
            let or_unknown = |v: &str| {
                if v.is_empty() {
                    "<unknown>".to_string()
                } else {
                    v.to_string()
                }
            };
            vec![
                name(),
                json!(node_status(obj)),
                json!(none_if_empty(node_roles(obj).join(","))),
                age(),
                json!(s(obj, "/status/nodeInfo/kubeletVersion")),
                json!(node_address(obj, "InternalIP")),
                json!(node_address(obj, "ExternalIP")),
                json!(or_unknown(s(obj, "/status/nodeInfo/osImage"))),
                json!(or_unknown(s(obj, "/status/nodeInfo/kernelVersion"))),
                json!(or_unknown(s(
                    obj,
                    "/status/nodeInfo/containerRuntimeVersion"
                ))),
            ]
        }
        Event => event_row(obj, now),
        Namespace => vec![name(), json!(s(obj, "/status/phase")), age()],
        Secret => vec![
            name(),
            json!(s(obj, "/type")),
            json!(len(obj, "/data")),
            age(),
        ],
        ServiceAccount => vec![name(), json!(len(obj, "/secrets")), age()],
        PersistentVolume => {
            let claim = match obj.pointer("/spec/claimRef").filter(|c| c.is_object()) {
                Some(c) => format!("{}/{}", s(c, "/namespace"), s(c, "/name")),
                None => String::new(),
            };
            let phase = if deleting(obj) {
                "Terminating"
            } else {
                s(obj, "/status/phase")
            };
            let class = annotation(obj, BETA_STORAGE_CLASS)
                .unwrap_or_else(|| s(obj, "/spec/storageClassName"));
            vec![
                name(),
                json!(quantity(obj.pointer("/spec/capacity/storage"))),
                json!(access_modes(list(obj, "/spec/accessModes"))),
                json!(s(obj, "/spec/persistentVolumeReclaimPolicy")),
                json!(phase),
                json!(claim),
                json!(class),
                json!(str_or(obj, "/spec/volumeAttributesClassName", "<unset>")),
                json!(s(obj, "/status/reason")),
                age(),
                json!(str_or(obj, "/spec/volumeMode", "<unset>")),
            ]
        }
        PersistentVolumeClaim => {
            let phase = if deleting(obj) {
                "Terminating"
            } else {
                s(obj, "/status/phase")
            };
            let volume = s(obj, "/spec/volumeName");
            let (capacity, modes) = if volume.is_empty() {
                (String::new(), String::new())
            } else {
                (
                    quantity(obj.pointer("/status/capacity/storage")),
                    access_modes(list(obj, "/status/accessModes")),
                )
            };
            let class = annotation(obj, BETA_STORAGE_CLASS)
                .or_else(|| {
                    obj.pointer("/spec/storageClassName")
                        .and_then(Value::as_str)
                })
                .unwrap_or("");
            vec![
                name(),
                json!(phase),
                json!(volume),
                json!(capacity),
                json!(modes),
                json!(class),
                json!(str_or(obj, "/spec/volumeAttributesClassName", "<unset>")),
                age(),
                json!(str_or(obj, "/spec/volumeMode", "<unset>")),
            ]
        }
        Deployment => {
            let (names, images) = containers(list(obj, "/spec/template/spec/containers"));
            let ready = n(obj, "/status/readyReplicas").unwrap_or(0);
            let desired = n(obj, "/spec/replicas").unwrap_or(1);
            let selector = selector_string(obj.pointer("/spec/selector"))
                .unwrap_or_else(|| "<invalid>".to_string());
            vec![
                name(),
                json!(format!("{ready}/{desired}")),
                json!(n(obj, "/status/updatedReplicas").unwrap_or(0)),
                json!(n(obj, "/status/availableReplicas").unwrap_or(0)),
                age(),
                json!(names),
                json!(images),
                json!(selector),
            ]
        }
        HorizontalPodAutoscaler => {
            let v2;
            let obj = if is_hpa_v1(obj) {
                v2 = convert::hpa_v1_to_v2(obj);
                &v2
            } else {
                obj
            };
            let reference = format!(
                "{}/{}",
                s(obj, "/spec/scaleTargetRef/kind"),
                s(obj, "/spec/scaleTargetRef/name")
            );
            let min = n(obj, "/spec/minReplicas")
                .map(|m| m.to_string())
                .unwrap_or_else(|| "<unset>".into());
            vec![
                name(),
                json!(reference),
                json!(hpa_metrics(
                    list(obj, "/spec/metrics"),
                    list(obj, "/status/currentMetrics")
                )),
                json!(min),
                json!(n(obj, "/spec/maxReplicas").unwrap_or(0)),
                json!(n(obj, "/status/currentReplicas").unwrap_or(0)),
                age(),
            ]
        }
        ConfigMap => vec![
            name(),
            json!(len(obj, "/data") + len(obj, "/binaryData")),
            age(),
        ],
        NetworkPolicy => vec![
            name(),
            json!(format_label_selector(Some(
                obj.pointer("/spec/podSelector").unwrap_or(&json!({}))
            ))),
            age(),
        ],
        RoleBinding | ClusterRoleBinding => {
            let role = format!("{}/{}", s(obj, "/roleRef/kind"), s(obj, "/roleRef/name"));
            let (users, groups, sas) = subjects(list(obj, "/subjects"));
            vec![
                name(),
                json!(role),
                age(),
                json!(users.join(", ")),
                json!(groups.join(", ")),
                json!(sas.join(", ")),
            ]
        }
        CertificateSigningRequest => {
            let signer = str_or(obj, "/spec/signerName", "<none>");
            let requested = match n(obj, "/spec/expirationSeconds") {
                Some(secs) => human_duration(SignedDuration::from_secs(secs)),
                None => "<none>".into(),
            };
            vec![
                name(),
                age(),
                json!(signer),
                json!(s(obj, "/spec/username")),
                json!(requested),
                json!(csr_condition(obj)),
            ]
        }
        Lease => vec![name(), json!(s(obj, "/spec/holderIdentity")), age()],
        StorageClass => {
            let mut display = s(obj, "/metadata/name").to_string();
            if is_default_class(obj) {
                display.push_str(" (default)");
            }
            vec![
                json!(display),
                json!(s(obj, "/provisioner")),
                json!(str_or(obj, "/reclaimPolicy", "Delete")),
                json!(str_or(obj, "/volumeBindingMode", "Immediate")),
                json!(obj
                    .get("allowVolumeExpansion")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)),
                age(),
            ]
        }
        ControllerRevision => vec![
            name(),
            json!(controller_of(obj)),
            json!(n(obj, "/revision").unwrap_or(0)),
            age(),
        ],
        ResourceQuota => {
            let (requests, limits) = quota_columns(obj);
            vec![name(), json!(requests), json!(limits), age()]
        }
        PriorityClass => vec![
            name(),
            json!(n(obj, "/value").unwrap_or(0)),
            json!(obj
                .get("globalDefault")
                .and_then(Value::as_bool)
                .unwrap_or(false)),
            age(),
            json!(s(obj, "/preemptionPolicy")),
        ],
        VolumeAttachment => vec![
            name(),
            json!(s(obj, "/spec/attacher")),
            json!(s(obj, "/spec/source/persistentVolumeName")),
            json!(s(obj, "/spec/nodeName")),
            json!(obj
                .pointer("/status/attached")
                .and_then(Value::as_bool)
                .unwrap_or(false)),
            age(),
        ],
        EndpointSlice => vec![
            name(),
            json!(s(obj, "/addressType")),
            json!(discovery_ports(list(obj, "/ports"))),
            json!(discovery_endpoints(list(obj, "/endpoints"))),
            age(),
        ],
        CsiNode => vec![name(), json!(list(obj, "/spec/drivers").len()), age()],
        CsiDriver => {
            let flag = |p: &str, default: bool| {
                json!(obj.pointer(p).and_then(Value::as_bool).unwrap_or(default))
            };
            let tokens = match obj.pointer("/spec/tokenRequests").and_then(Value::as_array) {
                Some(ts) => ts
                    .iter()
                    .map(|t| s(t, "/audience"))
                    .collect::<Vec<_>>()
                    .join(","),
                None => "<unset>".into(),
            };
            let modes = list(obj, "/spec/volumeLifecycleModes")
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(",");
            vec![
                name(),
                flag("/spec/attachRequired", true),
                flag("/spec/podInfoOnMount", false),
                flag("/spec/storageCapacity", false),
                json!(tokens),
                flag("/spec/requiresRepublish", false),
                json!(none_if_empty(modes)),
                age(),
            ]
        }
        CsiStorageCapacity => {
            let capacity = match obj.get("capacity").filter(|c| !c.is_null()) {
                Some(c) => quantity(Some(c)),
                None => "<unset>".into(),
            };
            vec![name(), json!(s(obj, "/storageClassName")), json!(capacity)]
        }
        Default => vec![name(), json!(created_at(obj))],
    }
}

// ---------------------------------------------------------------------------------------
// Durations and timestamps
// ---------------------------------------------------------------------------------------

/// Upstream's `duration.HumanDuration`: a short, 2–3 significant figure form of `d`, as in
/// the AGE column: "45s", "119s", "2m5s", "15m", "3h20m", "10h", "3d5h", "20d", "2y30d",
/// "9y". Slightly negative values (clock skew of up to a second) print "0s"; more negative
/// ones print "<invalid>".
pub fn human_duration(d: SignedDuration) -> String {
    let seconds = d.as_secs();
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        return format!("{hours}h{m}m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        return format!("{}d{h}h", hours / 24);
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        return format!("{}y{dy}d", hours / 24 / 365);
    }
    format!("{}y", hours / 24 / 365)
}

/// Time elapsed from `t` to `now` as [`human_duration`], `<unknown>` when `t` is unset.
pub fn translate_timestamp_since(t: Option<Timestamp>, now: Timestamp) -> String {
    match t {
        Some(t) => human_duration(now.duration_since(t)),
        None => "<unknown>".into(),
    }
}

/// A timestamp field; unset, null, unparseable or Go's zero time are all "unset".
fn ts(obj: &Value, pointer: &str) -> Option<Timestamp> {
    let t: Timestamp = obj.pointer(pointer)?.as_str()?.parse().ok()?;
    (t.as_second() != GO_ZERO_TIME_SECONDS).then_some(t)
}

/// `0001-01-01T00:00:00Z`, which is how Go writes an unset time.
const GO_ZERO_TIME_SECONDS: i64 = -62_135_596_800;

fn age(obj: &Value, now: Timestamp) -> String {
    translate_timestamp_since(ts(obj, "/metadata/creationTimestamp"), now)
}

/// The default table's `Created At`: RFC 3339 in UTC, whole seconds, Go's zero time if unset.
fn created_at(obj: &Value) -> String {
    match ts(obj, "/metadata/creationTimestamp") {
        Some(t) => t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => "0001-01-01T00:00:00Z".into(),
    }
}

// ---------------------------------------------------------------------------------------
// JSON access
// ---------------------------------------------------------------------------------------

fn s<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The string at `pointer`, or `default` when it is unset or empty.
fn str_or<'a>(obj: &'a Value, pointer: &str, default: &'a str) -> &'a str {
    match s(obj, pointer) {
        "" => default,
        v => v,
    }
}

fn n(obj: &Value, pointer: &str) -> Option<i64> {
    obj.pointer(pointer).and_then(Value::as_i64)
}

fn list<'a>(obj: &'a Value, pointer: &str) -> &'a [Value] {
    obj.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Entries of an array or map.
fn len(obj: &Value, pointer: &str) -> usize {
    match obj.pointer(pointer) {
        Some(Value::Array(a)) => a.len(),
        Some(Value::Object(m)) => m.len(),
        _ => 0,
    }
}

fn none_if_empty(v: String) -> String {
    if v.is_empty() {
        "<none>".into()
    } else {
        v
    }
}

fn deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

/// A quantity in canonical form (`1024Mi` prints `1Gi`, `1000m` prints `1`), as upstream
/// prints quantities; unset is the zero quantity; text that does not parse prints as is.
fn quantity(v: Option<&Value>) -> String {
    let text = match v {
        Some(Value::String(q)) => q.clone(),
        Some(Value::Number(q)) => q.to_string(),
        _ => return "0".into(),
    };
    match text.parse::<crate::quantity::Quantity>() {
        Ok(q) => q.to_string(),
        Err(_) => text,
    }
}

/// An IntOrString's text, `None` when unset.
fn int_or_string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn bool_ptr(v: Option<&Value>) -> &'static str {
    match v.and_then(Value::as_bool) {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    }
}

/// Container names and images, comma-separated.
fn containers(cs: &[Value]) -> (String, String) {
    let names: Vec<&str> = cs.iter().map(|c| s(c, "/name")).collect();
    let images: Vec<&str> = cs.iter().map(|c| s(c, "/image")).collect();
    (names.join(","), images.join(","))
}

/// Upstream's `labels.FormatLabels`: sorted `k=v` pairs, `<none>` when empty.
pub fn format_labels(labels: Option<&Value>) -> String {
    let mut pairs: Vec<String> = labels
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    none_if_empty(pairs.join(","))
}

/// A label selector in selector syntax (`app=web,tier in (a,b),!legacy`), requirements
/// sorted by key; empty for a missing or empty selector; `None` for an invalid one.
fn selector_string(sel: Option<&Value>) -> Option<String> {
    let Some(sel) = sel.filter(|v| v.is_object()) else {
        return Some(String::new());
    };
    let mut reqs: Vec<(String, String)> = Vec::new();
    if let Some(labels) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in labels {
            reqs.push((k.clone(), format!("{k}={}", v.as_str().unwrap_or(""))));
        }
    }
    for e in sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let key = s(e, "/key");
        let mut values: Vec<&str> = list(e, "/values")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        values.sort_unstable();
        let rendered = match s(e, "/operator") {
            "In" | "NotIn" if values.is_empty() => return None,
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" | "DoesNotExist" if !values.is_empty() => return None,
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            _ => return None,
        };
        reqs.push((key.to_string(), rendered));
    }
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    Some(
        reqs.into_iter()
            .map(|(_, r)| r)
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// Upstream's `metav1.FormatLabelSelector`: `<none>` when empty, `<error>` when invalid.
pub fn format_label_selector(sel: Option<&Value>) -> String {
    match selector_string(sel) {
        Some(s) => none_if_empty(s),
        None => "<error>".into(),
    }
}

// ---------------------------------------------------------------------------------------
// Pods
// ---------------------------------------------------------------------------------------

struct PodSummary {
    ready: String,
    status: String,
    restarts: String,
}

/// The STATUS column of `kubectl get pods`: the pod's phase or reason, refined by its
/// containers' states (`Init:1/2`, `Init:CrashLoopBackOff`, `ContainerCreating`,
/// `CrashLoopBackOff`, `Completed`, `Error`, `OOMKilled`, `ExitCode:1`, `Signal:9`,
/// `NotReady`, `SchedulingGated`), `Terminating` once deleted, `Unknown` for a deleted pod
/// on a lost node.
pub fn pod_status(pod: &Value) -> String {
    pod_summary(pod, Timestamp::UNIX_EPOCH).status
}

/// The READY column of `kubectl get pods`: ready containers / containers (restartable init
/// containers, i.e. sidecars, count as containers).
pub fn pod_ready(pod: &Value) -> String {
    pod_summary(pod, Timestamp::UNIX_EPOCH).ready
}

fn later(cur: Option<Timestamp>, t: Option<Timestamp>) -> Option<Timestamp> {
    match (cur, t) {
        (Some(c), Some(t)) if c < t => Some(t),
        (None, Some(t)) => Some(t),
        (c, _) => c,
    }
}

/// Present and an object (Go's non-nil pointer).
fn obj_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a Value> {
    v.pointer(pointer).filter(|v| v.is_object())
}

fn pod_summary(pod: &Value, now: Timestamp) -> PodSummary {
    let init_specs = list(pod, "/spec/initContainers");
    let is_sidecar = |name: &str| {
        init_specs
            .iter()
            .any(|c| s(c, "/name") == name && s(c, "/restartPolicy") == "Always")
    };
    let total = list(pod, "/spec/containers").len()
        + init_specs
            .iter()
            .filter(|c| s(c, "/restartPolicy") == "Always")
            .count();
    let phase = s(pod, "/status/phase");
    let mut reason = str_or(pod, "/status/reason", phase).to_string();
    let conditions = list(pod, "/status/conditions");
    if conditions
        .iter()
        .any(|c| s(c, "/type") == "PodScheduled" && s(c, "/reason") == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }

    let mut ready = 0;
    let mut restarts = 0;
    let mut sidecar_restarts = 0;
    let mut last_restart: Option<Timestamp> = None;
    let mut last_sidecar_restart: Option<Timestamp> = None;
    let mut initializing = false;
    let init_statuses = list(pod, "/status/initContainerStatuses");
    for (i, c) in init_statuses.iter().enumerate() {
        let count = n(c, "/restartCount").unwrap_or(0);
        let finished = ts(c, "/lastState/terminated/finishedAt");
        restarts += count;
        last_restart = later(last_restart, finished);
        let sidecar = is_sidecar(s(c, "/name"));
        if sidecar {
            sidecar_restarts += count;
            last_sidecar_restart = later(last_sidecar_restart, finished);
        }
        let terminated = obj_at(c, "/state/terminated");
        let waiting_reason = obj_at(c, "/state/waiting").map(|w| s(w, "/reason"));
        if terminated.is_some_and(|t| n(t, "/exitCode").unwrap_or(0) == 0) {
            continue;
        }
        if sidecar && c.get("started").and_then(Value::as_bool) == Some(true) {
            if c.get("ready").and_then(Value::as_bool) == Some(true) {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            reason = match s(t, "/reason") {
                "" => match n(t, "/signal").unwrap_or(0) {
                    0 => format!("Init:ExitCode:{}", n(t, "/exitCode").unwrap_or(0)),
                    sig => format!("Init:Signal:{sig}"),
                },
                r => format!("Init:{r}"),
            };
        } else if let Some(w) = waiting_reason.filter(|w| !w.is_empty() && *w != "PodInitializing")
        {
            reason = format!("Init:{w}");
        } else {
            reason = format!("Init:{i}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }

    let initialized = conditions
        .iter()
        .find(|c| s(c, "/type") == "Initialized")
        .is_some_and(|c| s(c, "/status") == "True");
    if !initializing || initialized {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for c in list(pod, "/status/containerStatuses").iter().rev() {
            restarts += n(c, "/restartCount").unwrap_or(0);
            last_restart = later(last_restart, ts(c, "/lastState/terminated/finishedAt"));
            let waiting = obj_at(c, "/state/waiting");
            let terminated = obj_at(c, "/state/terminated");
            if let Some(w) = waiting.filter(|w| !s(w, "/reason").is_empty()) {
                reason = s(w, "/reason").to_string();
            } else if let Some(t) = terminated {
                reason = match s(t, "/reason") {
                    "" => match n(t, "/signal").unwrap_or(0) {
                        0 => format!("ExitCode:{}", n(t, "/exitCode").unwrap_or(0)),
                        sig => format!("Signal:{sig}"),
                    },
                    r => r.to_string(),
                };
            } else if c.get("ready").and_then(Value::as_bool) == Some(true)
                && obj_at(c, "/state/running").is_some()
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let pod_ready = conditions
                .iter()
                .any(|c| s(c, "/type") == "Ready" && s(c, "/status") == "True");
            reason = if pod_ready { "Running" } else { "NotReady" }.into();
        }
    }

    if deleting(pod) && s(pod, "/status/reason") == "NodeLost" {
        reason = "Unknown".into();
    } else if deleting(pod) && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".into();
    }

    let restarts = match last_restart {
        Some(t) if restarts != 0 => {
            format!(
                "{restarts} ({} ago)",
                translate_timestamp_since(Some(t), now)
            )
        }
        _ => restarts.to_string(),
    };
    PodSummary {
        ready: format!("{ready}/{total}"),
        status: reason,
        restarts,
    }
}

fn readiness_gates(pod: &Value) -> String {
    let gates = list(pod, "/spec/readinessGates");
    if gates.is_empty() {
        return "<none>".into();
    }
    let conditions = list(pod, "/status/conditions");
    let true_count = gates
        .iter()
        .filter(|g| {
            conditions
                .iter()
                .find(|c| s(c, "/type") == s(g, "/conditionType"))
                .is_some_and(|c| s(c, "/status") == "True")
        })
        .count();
    format!("{true_count}/{}", gates.len())
}

// ---------------------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------------------

fn job_condition(job: &Value, ty: &str) -> bool {
    list(job, "/status/conditions")
        .iter()
        .find(|c| s(c, "/type") == ty)
        .is_some_and(|c| s(c, "/status") == "True")
}

fn job_status(job: &Value) -> &'static str {
    if job_condition(job, "Complete") {
        "Complete"
    } else if job_condition(job, "Failed") {
        "Failed"
    } else if deleting(job) {
        "Terminating"
    } else if job_condition(job, "Suspended") {
        "Suspended"
    } else if job_condition(job, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    }
}

fn job_completions(job: &Value) -> String {
    let succeeded = n(job, "/status/succeeded").unwrap_or(0);
    if let Some(c) = n(job, "/spec/completions") {
        return format!("{succeeded}/{c}");
    }
    match n(job, "/spec/parallelism").unwrap_or(0) {
        p if p > 1 => format!("{succeeded}/1 of {p}"),
        _ => format!("{succeeded}/1"),
    }
}

fn job_duration(job: &Value, now: Timestamp) -> String {
    match (
        ts(job, "/status/startTime"),
        ts(job, "/status/completionTime"),
    ) {
        (None, _) => String::new(),
        (Some(start), None) => human_duration(now.duration_since(start)),
        (Some(start), Some(end)) => human_duration(end.duration_since(start)),
    }
}

fn controller_of(obj: &Value) -> String {
    let Some(owner) = list(obj, "/metadata/ownerReferences")
        .iter()
        .find(|o| o.get("controller").and_then(Value::as_bool) == Some(true))
    else {
        return "<none>".into();
    };
    let (group, _) = crate::resources::split_api_version(s(owner, "/apiVersion"));
    let kind = s(owner, "/kind");
    let name = s(owner, "/name");
    if group.is_empty() && kind.is_empty() {
        return name.to_string();
    }
    let group_kind = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    };
    format!("{}/{name}", group_kind.to_lowercase())
}

// ---------------------------------------------------------------------------------------
// Services and networking
// ---------------------------------------------------------------------------------------

fn service_type(svc: &Value) -> &str {
    str_or(svc, "/spec/type", "ClusterIP")
}

fn service_ports(svc: &Value) -> String {
    list(svc, "/spec/ports")
        .iter()
        .map(|p| {
            let port = n(p, "/port").unwrap_or(0);
            let proto = str_or(p, "/protocol", "TCP");
            match n(p, "/nodePort").unwrap_or(0) {
                np if np > 0 => format!("{port}:{np}/{proto}"),
                _ => format!("{port}/{proto}"),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Load-balancer ingress points (IP, else hostname), sorted and de-duplicated.
fn load_balancer_addresses(ingress: &[Value]) -> String {
    let mut out: Vec<&str> = ingress
        .iter()
        .filter_map(|i| match (s(i, "/ip"), s(i, "/hostname")) {
            ("", "") => None,
            ("", host) => Some(host),
            (ip, _) => Some(ip),
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out.join(",")
}

fn service_external_ip(svc: &Value) -> String {
    let external: Vec<&str> = list(svc, "/spec/externalIPs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    match service_type(svc) {
        "ClusterIP" | "NodePort" => none_if_empty(external.join(",")),
        "LoadBalancer" => {
            let lb = load_balancer_addresses(list(svc, "/status/loadBalancer/ingress"));
            if !external.is_empty() {
                let mut all: Vec<&str> = Vec::new();
                if !lb.is_empty() {
                    all.extend(lb.split(','));
                }
                all.extend(external);
                return all.join(",");
            }
            if lb.is_empty() {
                "<pending>".into()
            } else {
                lb
            }
        }
        "ExternalName" => s(svc, "/spec/externalName").to_string(),
        _ => "<unknown>".into(),
    }
}

fn ingress_hosts(rules: &[Value]) -> String {
    const MAX: usize = 3;
    let mut hosts: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if hosts.len() == MAX {
            more = true;
        }
        let host = s(rule, "/host");
        if !more && !host.is_empty() {
            hosts.push(host);
        }
    }
    if hosts.is_empty() {
        return "*".into();
    }
    let joined = hosts.join(",");
    if more {
        format!("{joined} + {} more...", rules.len() - MAX)
    } else {
        joined
    }
}

/// Up to three entries, then ` + N more...`.
fn with_more(items: Vec<String>, empty: &str) -> String {
    const MAX: usize = 3;
    let count = items.len();
    let shown = items.into_iter().take(MAX).collect::<Vec<_>>().join(",");
    if count > MAX {
        format!("{shown} + {} more...", count - MAX)
    } else if shown.is_empty() {
        empty.to_string()
    } else {
        shown
    }
}

fn format_endpoints(ep: &Value) -> String {
    let subsets = list(ep, "/subsets");
    if subsets.is_empty() {
        return "<none>".into();
    }
    let mut items: Vec<String> = Vec::new();
    for ss in subsets {
        let addresses = list(ss, "/addresses");
        let ports = list(ss, "/ports");
        if ports.is_empty() {
            items.extend(addresses.iter().map(|a| s(a, "/ip").to_string()));
            continue;
        }
        for port in ports {
            let p = n(port, "/port").unwrap_or(0);
            for a in addresses {
                items.push(join_host_port(s(a, "/ip"), p));
            }
        }
    }
    with_more(items, "")
}

/// Go's `net.JoinHostPort`: IPv6 hosts in brackets.
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn discovery_ports(ports: &[Value]) -> String {
    let items = ports
        .iter()
        .map(
            |p| match (n(p, "/port"), p.get("name").and_then(Value::as_str)) {
                (Some(port), _) => port.to_string(),
                (None, Some(name)) => name.to_string(),
                (None, None) => "*".to_string(),
            },
        )
        .collect();
    with_more(items, "<unset>")
}

fn discovery_endpoints(endpoints: &[Value]) -> String {
    let items = endpoints
        .iter()
        .flat_map(|e| list(e, "/addresses"))
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    with_more(items, "<unset>")
}

// ---------------------------------------------------------------------------------------
// Nodes and storage
// ---------------------------------------------------------------------------------------

fn node_status(node: &Value) -> String {
    let mut status: Vec<String> = Vec::new();
    // Only the last Ready condition counts, as upstream keeps the last one per type.
    if let Some(c) = list(node, "/status/conditions")
        .iter()
        .rev()
        .find(|c| s(c, "/type") == "Ready")
    {
        status.push(if s(c, "/status") == "True" {
            "Ready".into()
        } else {
            "NotReady".into()
        });
    }
    if status.is_empty() {
        status.push("Unknown".into());
    }
    if node.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled".into());
    }
    status.join(",")
}

fn node_roles(node: &Value) -> Vec<String> {
    let mut roles: Vec<String> = Vec::new();
    if let Some(labels) = node.pointer("/metadata/labels").and_then(Value::as_object) {
        for (k, v) in labels {
            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                if !role.is_empty() {
                    roles.push(role.to_string());
                }
            } else if k == "kubernetes.io/role" {
                if let Some(v) = v.as_str().filter(|v| !v.is_empty()) {
                    roles.push(v.to_string());
                }
            }
        }
    }
    roles.sort();
    roles.dedup();
    roles
}

fn node_address(node: &Value, ty: &str) -> String {
    list(node, "/status/addresses")
        .iter()
        .find(|a| s(a, "/type") == ty)
        .map(|a| s(a, "/address").to_string())
        .unwrap_or_else(|| "<none>".into())
}

const BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

/// Access modes in upstream's short form and fixed order: `RWO,ROX,RWX,RWOP`.
fn access_modes(modes: &[Value]) -> String {
    let has = |m: &str| modes.iter().any(|v| v.as_str() == Some(m));
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(long, _)| has(long))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

fn is_default_class(sc: &Value) -> bool {
    annotation(sc, "storageclass.kubernetes.io/is-default-class") == Some("true")
        || annotation(sc, "storageclass.beta.kubernetes.io/is-default-class") == Some("true")
}

fn quota_columns(quota: &Value) -> (String, String) {
    let Some(hard) = quota.pointer("/status/hard").and_then(Value::as_object) else {
        return (String::new(), String::new());
    };
    let mut names: Vec<&String> = hard.keys().collect();
    names.sort();
    let mut requests: Vec<String> = Vec::new();
    let mut limits: Vec<String> = Vec::new();
    for name in names {
        let used = quantity(
            quota
                .pointer("/status/used")
                .and_then(|u| u.get(name.as_str())),
        );
        let entry = format!("{name}: {used}/{}", quantity(hard.get(name.as_str())));
        let pieces: Vec<&str> = name.split('.').collect();
        if pieces.len() > 1 && pieces[0] == "limits" {
            limits.push(entry);
        } else {
            requests.push(entry);
        }
    }
    (requests.join(", "), limits.join(", "))
}

// ---------------------------------------------------------------------------------------
// Events, RBAC, certificates, autoscaling
// ---------------------------------------------------------------------------------------

fn is_events_v1(obj: &Value) -> bool {
    match obj.get("apiVersion").and_then(Value::as_str) {
        Some(v) => v == "events.k8s.io/v1",
        None => obj.get("involvedObject").is_none() && obj.get("regarding").is_some(),
    }
}

fn is_hpa_v1(obj: &Value) -> bool {
    match obj.get("apiVersion").and_then(Value::as_str) {
        Some(v) => v == "autoscaling/v1",
        None => obj
            .pointer("/spec/targetCPUUtilizationPercentage")
            .is_some(),
    }
}

fn event_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let core;
    let ev = if is_events_v1(obj) {
        core = convert::events_v1_to_core_event(obj);
        &core
    } else {
        obj
    };
    let first = match ts(ev, "/firstTimestamp") {
        Some(t) => translate_timestamp_since(Some(t), now),
        None => translate_timestamp_since(ts(ev, "/eventTime"), now),
    };
    let mut last = match ts(ev, "/lastTimestamp") {
        Some(t) => translate_timestamp_since(Some(t), now),
        None => first.clone(),
    };
    let mut count = n(ev, "/count").unwrap_or(0);
    if let Some(series) = obj_at(ev, "/series") {
        last = translate_timestamp_since(ts(series, "/lastObservedTime"), now);
        count = n(series, "/count").unwrap_or(0);
    } else if count == 0 {
        // Singleton events don't have a count set in the new API.
        count = 1;
    }
    let kind = s(ev, "/involvedObject/kind").to_lowercase();
    let target = match s(ev, "/involvedObject/name") {
        "" => kind,
        name => format!("{kind}/{name}"),
    };
    let first_non_empty = |a: &str, b: &str| if a.is_empty() { b } else { a }.to_string();
    let component = first_non_empty(s(ev, "/source/component"), s(ev, "/reportingComponent"));
    let host = first_non_empty(s(ev, "/source/host"), s(ev, "/reportingInstance"));
    let source = if host.is_empty() {
        component
    } else {
        format!("{component}, {host}")
    };
    vec![
        json!(last),
        json!(s(ev, "/type")),
        json!(s(ev, "/reason")),
        json!(target),
        json!(s(ev, "/involvedObject/fieldPath")),
        json!(source),
        json!(s(ev, "/message").trim()),
        json!(first),
        json!(count),
        json!(s(ev, "/metadata/name")),
    ]
}

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

/// A quantity pointer's text, `<nil>` when unset (Go's nil `*Quantity`).
fn q_ptr(v: &Value, pointer: &str) -> String {
    match v.pointer(pointer).filter(|q| !q.is_null()) {
        Some(q) => quantity(Some(q)),
        None => "<nil>".into(),
    }
}

/// The TARGETS column: `current/target` per metric (`cpu: 45%/80%`, `500Mi/1Gi (avg)`),
/// at most two, then ` + N more...`; `<none>` without metrics.
fn hpa_metrics(specs: &[Value], statuses: &[Value]) -> String {
    if specs.is_empty() {
        return "<none>".into();
    }
    const MAX: usize = 2;
    let mut items: Vec<String> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let status = statuses.get(i);
        let cur = |key: &str| status.and_then(|st| obj_at(st, &format!("/{key}")));
        let item = match s(spec, "/type") {
            "External" | "Object" => {
                let key = if s(spec, "/type") == "External" {
                    "external"
                } else {
                    "object"
                };
                let src = obj_at(spec, &format!("/{key}")).unwrap_or(&Value::Null);
                let avg_target = src.pointer("/target/averageValue").filter(|v| !v.is_null());
                if avg_target.is_some() {
                    let current = cur(key)
                        .and_then(|c| c.pointer("/current/averageValue"))
                        .filter(|v| !v.is_null())
                        .map(|q| quantity(Some(q)))
                        .unwrap_or_else(|| "<unknown>".into());
                    format!("{current}/{} (avg)", q_ptr(src, "/target/averageValue"))
                } else {
                    let current = cur(key)
                        .map(|c| q_ptr(c, "/current/value"))
                        .unwrap_or_else(|| "<unknown>".into());
                    format!("{current}/{}", q_ptr(src, "/target/value"))
                }
            }
            "Pods" => {
                let src = obj_at(spec, "/pods").unwrap_or(&Value::Null);
                let current = cur("pods")
                    .map(|c| q_ptr(c, "/current/averageValue"))
                    .unwrap_or_else(|| "<unknown>".into());
                format!("{current}/{}", q_ptr(src, "/target/averageValue"))
            }
            "Resource" | "ContainerResource" => {
                let key = if s(spec, "/type") == "Resource" {
                    "resource"
                } else {
                    "containerResource"
                };
                let src = obj_at(spec, &format!("/{key}")).unwrap_or(&Value::Null);
                let name = s(src, "/name");
                if src
                    .pointer("/target/averageValue")
                    .is_some_and(|v| !v.is_null())
                {
                    let current = cur(key)
                        .map(|c| q_ptr(c, "/current/averageValue"))
                        .unwrap_or_else(|| "<unknown>".into());
                    format!("{name}: {current}/{}", q_ptr(src, "/target/averageValue"))
                } else {
                    let current = cur(key)
                        .and_then(|c| n(c, "/current/averageUtilization"))
                        .map(|u| format!("{u}%"))
                        .unwrap_or_else(|| "<unknown>".into());
                    let target = n(src, "/target/averageUtilization")
                        .map(|u| format!("{u}%"))
                        .unwrap_or_else(|| "<auto>".into());
                    format!("{name}: {current}/{target}")
                }
            }
            _ => "<unknown type>".into(),
        };
        items.push(item);
    }
    let count = items.len();
    if count > MAX {
        format!("{} + {} more...", items[..MAX].join(", "), count - MAX)
    } else {
        items.join(", ")
    }
}

/// Column descriptions: the API documentation of the field each column shows, as upstream
/// uses it.
mod doc {
    pub(super) const NAME: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
    pub(super) const CREATED: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
    pub(super) const POD_IP: &str = "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.";
    pub(super) const POD_NODE: &str = "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename";
    pub(super) const POD_NOMINATED: &str = "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.";
    pub(super) const POD_READINESS_GATES: &str = "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates";
    pub(super) const RC_DESIRED: &str = "Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller";
    pub(super) const RC_CURRENT: &str = "Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller";
    pub(super) const RC_READY: &str =
        "The number of ready replicas for this replication controller.";
    pub(super) const RC_SELECTOR: &str = "Selector is a label query over pods that should match the Replicas count. If Selector is empty, it is defaulted to the labels present on the Pod template. Label keys and values that must match in order to be controlled by this replication controller, if empty defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors";
    pub(super) const RS_DESIRED: &str = "Replicas is the number of desired pods. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset";
    pub(super) const RS_CURRENT: &str = "Replicas is the most recently observed number of non-terminating pods. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset";
    pub(super) const RS_READY: &str =
        "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.";
    pub(super) const RS_SELECTOR: &str = "Selector is a label query over pods that should match the replica count. Label keys and values that must match in order to be controlled by this replica set. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors";
    pub(super) const DS_DESIRED: &str = "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/";
    pub(super) const DS_CURRENT: &str = "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/";
    pub(super) const DS_READY: &str = "numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.";
    pub(super) const DS_UPDATED: &str =
        "The total number of nodes that are running updated daemon pod";
    pub(super) const DS_AVAILABLE: &str = "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)";
    pub(super) const POD_NODE_SELECTOR: &str = "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/";
    pub(super) const DS_SELECTOR: &str = "A label query over pods that are managed by the daemon set. Must match in order to be controlled. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors";
    pub(super) const JOB_SUCCEEDED: &str = "The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.";
    pub(super) const JOB_SELECTOR: &str = "A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors";
    pub(super) const CJ_SCHEDULE: &str =
        "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.";
    pub(super) const CJ_TIMEZONE: &str = "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones";
    pub(super) const CJ_SUSPEND: &str = "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.";
    pub(super) const CJ_ACTIVE: &str = "A list of pointers to currently running jobs.";
    pub(super) const CJ_LAST_SCHEDULE: &str =
        "Information when was the last time the job was successfully scheduled.";
    pub(super) const SVC_TYPE: &str = "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is \"None\", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. \"NodePort\" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. \"LoadBalancer\" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. \"ExternalName\" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types";
    pub(super) const SVC_CLUSTER_IP: &str = "clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are \"None\", empty string (\"\"), or a valid IP address. Setting this to \"None\" makes a \"headless service\" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies";
    pub(super) const SVC_EXTERNAL_IPS: &str = "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.";
    pub(super) const SVC_PORTS: &str = "The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies";
    pub(super) const SVC_SELECTOR: &str = "Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/";
    pub(super) const EP_SUBSETS: &str = "The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.";
    pub(super) const NODE_KUBELET_VERSION: &str = "Kubelet Version reported by the node.";
    pub(super) const NODE_ADDRESSES: &str = "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).";
    pub(super) const NODE_OS_IMAGE: &str =
        "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).";
    pub(super) const NODE_KERNEL: &str =
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).";
    pub(super) const NODE_RUNTIME: &str = "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).";
    pub(super) const EV_LAST: &str =
        "The time at which the most recent occurrence of this event was recorded.";
    pub(super) const EV_TYPE: &str =
        "Type of this event (Normal, Warning), new types could be added in the future";
    pub(super) const EV_REASON: &str = "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.";
    pub(super) const EV_OBJECT: &str = "The object that this event is about.";
    pub(super) const EV_FIELD_PATH: &str = "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers\\[2\\]. For example, if the object reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that triggered the event) or if no container name is specified \"spec.containers\\[2\\]\" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.";
    pub(super) const EV_SOURCE: &str =
        "The component reporting this event. Should be a short machine understandable string.";
    pub(super) const EV_MESSAGE: &str =
        "A human-readable description of the status of this operation.";
    pub(super) const EV_FIRST: &str =
        "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)";
    pub(super) const EV_COUNT: &str = "The number of times this event has occurred.";
    pub(super) const SECRET_TYPE: &str = "Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types";
    pub(super) const SECRET_DATA: &str = "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4";
    pub(super) const SA_SECRETS: &str = "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a \"kubernetes.io/enforce-mountable-secrets\" annotation set to \"true\". The \"kubernetes.io/enforce-mountable-secrets\" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret";
    pub(super) const PV_CAPACITY: &str = "capacity is the description of the persistent volume's resources and capacity. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity";
    pub(super) const PV_ACCESS_MODES: &str = "accessModes contains all ways the volume can be mounted. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes";
    pub(super) const PV_RECLAIM: &str = "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming";
    pub(super) const PV_PHASE: &str = "phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase";
    pub(super) const PV_CLAIM: &str = "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding";
    pub(super) const PV_REASON: &str = "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.";
    pub(super) const PV_VOLUME_MODE: &str = "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.";
    pub(super) const PVC_PHASE: &str =
        "phase represents the current phase of PersistentVolumeClaim.";
    pub(super) const PVC_VOLUME: &str =
        "volumeName is the binding reference to the PersistentVolume backing this claim.";
    pub(super) const PVC_CAPACITY: &str =
        "capacity represents the actual resources of the underlying volume.";
    pub(super) const PVC_ACCESS_MODES: &str = "accessModes contains the actual access modes the volume backing the PVC has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1";
    pub(super) const PVC_VOLUME_MODE: &str = "volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.";
    pub(super) const DEPLOY_UPDATED: &str = "Total number of non-terminating pods targeted by this deployment that have the desired template spec.";
    pub(super) const DEPLOY_AVAILABLE: &str = "Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment.";
    pub(super) const DEPLOY_SELECTOR: &str = "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment. It must match the pod template's labels.";
    pub(super) const HPA_REFERENCE: &str = "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.";
    pub(super) const HPA_TARGETS: &str = "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond. If not set, the default metric will be set to 80% average CPU utilization.";
    pub(super) const HPA_MIN: &str = "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available.";
    pub(super) const HPA_MAX: &str = "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.";
    pub(super) const HPA_REPLICAS: &str = "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.";
    pub(super) const CM_DATA: &str = "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.";
    pub(super) const NP_POD_SELECTOR: &str = "podSelector selects the pods to which this NetworkPolicy object applies. The array of ingress rules is applied to any pods selected by this field. Multiple network policies can select the same set of pods. In this case, the ingress rules for each are combined additively. This field is NOT optional and follows standard label selector semantics. An empty podSelector matches all pods in this namespace.";
    pub(super) const RB_ROLE: &str = "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.";
    pub(super) const CRB_ROLE: &str = "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.";
    pub(super) const CSR_SIGNER: &str = "signerName indicates the requested signer, and is a qualified name.\n\nList/watch requests for CertificateSigningRequests can filter on this field using a \"spec.signerName=NAME\" fieldSelector.\n\nWell-known Kubernetes signers are:  1. \"kubernetes.io/kube-apiserver-client\": issues client certificates that can be used to authenticate to kube-apiserver.   Requests for this signer are never auto-approved by kube-controller-manager, can be issued by the \"csrsigning\" controller in kube-controller-manager.  2. \"kubernetes.io/kube-apiserver-client-kubelet\": issues client certificates that kubelets use to authenticate to kube-apiserver.   Requests for this signer can be auto-approved by the \"csrapproving\" controller in kube-controller-manager, and can be issued by the \"csrsigning\" controller in kube-controller-manager.  3. \"kubernetes.io/kubelet-serving\" issues serving certificates that kubelets use to serve TLS endpoints, which kube-apiserver can connect to securely.   Requests for this signer are never auto-approved by kube-controller-manager, and can be issued by the \"csrsigning\" controller in kube-controller-manager.\n\nMore details are available at https://k8s.io/docs/reference/access-authn-authz/certificate-signing-requests/#kubernetes-signers\n\nCustom signerNames can also be specified. The signer defines:  1. Trust distribution: how trust (CA bundles) are distributed.  2. Permitted subjects: and behavior when a disallowed subject is requested.  3. Required, permitted, or forbidden x509 extensions in the request (including whether subjectAltNames are allowed, which types, restrictions on allowed values) and behavior when a disallowed extension is requested.  4. Required, permitted, or forbidden key usages / extended key usages.  5. Expiration/certificate lifetime: whether it is fixed by the signer, configurable by the admin.  6. Whether or not requests for CA certificates are allowed.";
    pub(super) const CSR_REQUEST: &str = "request contains an x509 certificate signing request encoded in a \"CERTIFICATE REQUEST\" PEM block. When serialized as JSON or YAML, the data is additionally base64-encoded.";
    pub(super) const CSR_EXPIRATION: &str = "expirationSeconds is the requested duration of validity of the issued certificate. The certificate signer may issue a certificate with a different validity duration so a client must check the delta between the notBefore and and notAfter fields in the issued certificate to determine the actual duration.\n\nThe v1.22+ in-tree implementations of the well-known Kubernetes signers will honor this field as long as the requested duration is not greater than the maximum duration they will honor per the --cluster-signing-duration CLI flag to the Kubernetes controller manager.\n\nCertificate signers may not honor this field for various reasons:\n\n  1. Old signer that is unaware of the field (such as the in-tree      implementations prior to v1.22)   2. Signer whose configured maximum is shorter than the requested duration   3. Signer whose configured minimum is longer than the requested duration\n\nThe minimum valid value for expirationSeconds is 600, i.e. 10 minutes.";
    pub(super) const CSR_CONDITIONS: &str = "conditions applied to the request. Known conditions are \"Approved\", \"Denied\", and \"Failed\".";
    pub(super) const LEASE_HOLDER: &str = "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.";
    pub(super) const SC_PROVISIONER: &str = "provisioner indicates the type of the provisioner.";
    pub(super) const SC_RECLAIM: &str = "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.";
    pub(super) const SC_BINDING_MODE: &str = "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.";
    pub(super) const SC_EXPANSION: &str =
        "allowVolumeExpansion shows whether the storage class allow volume expand.";
    pub(super) const CR_REVISION: &str =
        "Revision indicates the revision of the state represented by Data.";
    pub(super) const PC_VALUE: &str = "value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.";
    pub(super) const PC_GLOBAL_DEFAULT: &str = "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.";
    pub(super) const PC_PREEMPTION: &str = "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.";
    pub(super) const VA_ATTACHER: &str = "attacher indicates the name of the volume driver that MUST handle this request. This is the name returned by GetPluginName().";
    pub(super) const VA_PV: &str =
        "persistentVolumeName represents the name of the persistent volume to attach.";
    pub(super) const VA_NODE: &str =
        "nodeName represents the node that the volume should be attached to.";
    pub(super) const VA_ATTACHED: &str = "attached indicates the volume is successfully attached. This field must only be set by the entity completing the attach operation, i.e. the external-attacher.";
    pub(super) const EPS_ADDRESS_TYPE: &str = "addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name. (Deprecated) The EndpointSlice controller only generates, and kube-proxy only processes, slices of addressType \"IPv4\" and \"IPv6\". No semantics are defined for the \"FQDN\" type.";
    pub(super) const EPS_PORTS: &str = "ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. Each slice may include a maximum of 100 ports. Services always have at least 1 port, so EndpointSlices generated by the EndpointSlice controller will likewise always have at least 1 port. EndpointSlices used for other purposes may have an empty ports list.";
    pub(super) const EPS_ENDPOINTS: &str = "endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.";
    pub(super) const CSID_ATTACH: &str = "attachRequired indicates this CSI volume driver requires an attach operation (because it implements the CSI ControllerPublishVolume() method), and that the Kubernetes attach detach controller should call the attach volume interface which checks the volumeattachment status and waits until the volume is attached before proceeding to mounting. The CSI external-attacher coordinates with CSI volume driver and updates the volumeattachment status when the attach operation is complete. If the CSIDriverRegistry feature gate is enabled and the value is specified to false, the attach operation will be skipped. Otherwise the attach operation will be called.\n\nThis field is immutable.";
    pub(super) const CSID_POD_INFO: &str = "podInfoOnMount indicates this CSI volume driver requires additional pod information (like podName, podUID, etc.) during mount operations, if set to true. If set to false, pod information will not be passed on mount. Default is false.\n\nThe CSI driver specifies podInfoOnMount as part of driver deployment. If true, Kubelet will pass pod information as VolumeContext in the CSI NodePublishVolume() calls. The CSI driver is responsible for parsing and validating the information passed in as VolumeContext.\n\nThe following VolumeContext will be passed if podInfoOnMount is set to true. This list might grow, but the prefix will be used. \"csi.storage.k8s.io/pod.name\": pod.Name \"csi.storage.k8s.io/pod.namespace\": pod.Namespace \"csi.storage.k8s.io/pod.uid\": string(pod.UID) \"csi.storage.k8s.io/ephemeral\": \"true\" if the volume is an ephemeral inline volume                                 defined by a CSIVolumeSource, otherwise \"false\"\n\n\"csi.storage.k8s.io/ephemeral\" is a new feature in Kubernetes 1.16. It is only required for drivers which support both the \"Persistent\" and \"Ephemeral\" VolumeLifecycleMode. Other drivers can leave pod info disabled and/or ignore this field. As Kubernetes 1.15 doesn't support this field, drivers can only support one mode when deployed on such a cluster and the deployment determines which mode that is, for example via a command line parameter of the driver.\n\nThis field was immutable in Kubernetes \\< 1.29 and now is mutable.";
    pub(super) const CSID_CAPACITY: &str = "storageCapacity indicates that the CSI volume driver wants pod scheduling to consider the storage capacity that the driver deployment will report by creating CSIStorageCapacity objects with capacity information, if set to true.\n\nThe check can be enabled immediately when deploying a driver. In that case, provisioning new volumes with late binding will pause until the driver deployment has published some suitable CSIStorageCapacity object.\n\nAlternatively, the driver can be deployed with the field unset or false and it can be flipped later when storage capacity information has been published.\n\nThis field was immutable in Kubernetes \\<= 1.22 and now is mutable.";
    pub(super) const CSID_TOKENS: &str = "tokenRequests indicates the CSI driver needs pods' service account tokens it is mounting volume for to do necessary authentication. Kubelet will pass the tokens in VolumeContext in the CSI NodePublishVolume calls. The CSI driver should parse and validate the following VolumeContext: \"csi.storage.k8s.io/serviceAccount.tokens\": {   \"\\<audience\\>\": {     \"token\": \\<token\\>,     \"expirationTimestamp\": \\<expiration timestamp in RFC3339\\>,   },   ... }\n\nNote: Audience in each TokenRequest should be different and at most one token is empty string. To receive a new token after expiry, RequiresRepublish can be used to trigger NodePublishVolume periodically.";
    pub(super) const CSID_REPUBLISH: &str = "requiresRepublish indicates the CSI driver wants `NodePublishVolume` being periodically called to reflect any possible change in the mounted volume. This field defaults to false.\n\nNote: After a successful initial NodePublishVolume call, subsequent calls to NodePublishVolume should only update the contents of the volume. New mount points will not be seen by a running container.";
    pub(super) const CSID_MODES: &str = "volumeLifecycleModes defines what kind of volumes this CSI volume driver supports. The default if the list is empty is \"Persistent\", which is the usage defined by the CSI specification and implemented in Kubernetes via the usual PV/PVC mechanism.\n\nThe other mode is \"Ephemeral\". In this mode, volumes are defined inline inside the pod spec with CSIVolumeSource and their lifecycle is tied to the lifecycle of that pod. A driver has to be aware of this because it is only going to get a NodePublishVolume call for such a volume.\n\nFor more information about implementing this mode, see https://kubernetes-csi.github.io/docs/ephemeral-local-volumes.html A driver can support one or more of these modes and more modes may be added in the future.\n\nThis field is beta. This field is immutable.";
    pub(super) const CSC_CLASS: &str = "storageClassName represents the name of the StorageClass that the reported capacity applies to. It must meet the same requirements as the name of a StorageClass object (non-empty, DNS subdomain). If that object no longer exists, the CSIStorageCapacity object is obsolete and should be removed by its creator. This field is immutable.";
    pub(super) const CSC_CAPACITY: &str = "capacity is the value reported by the CSI driver in its GetCapacityResponse for a GetCapacityRequest with topology and parameters that match the previous fields.\n\nThe semantic is currently (CSI spec 1.2) defined as: The available capacity, in bytes, of the storage that can be used to provision volumes. If not set, that information is currently unavailable.";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::RESOURCES;

    fn now() -> Timestamp {
        "2024-06-01T12:00:00Z".parse().unwrap()
    }

    /// A timestamp `secs` seconds before [`now`].
    fn ago(secs: i64) -> String {
        (now() - SignedDuration::from_secs(secs))
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    }

    fn names(cols: &[Column]) -> Vec<&'static str> {
        cols.iter().map(|c| c.name).collect()
    }

    fn wide_names(cols: &[Column]) -> Vec<&'static str> {
        cols.iter()
            .filter(|c| c.priority == 1)
            .map(|c| c.name)
            .collect()
    }

    /// The cell under `column` in `obj`'s row.
    fn cell(group: &str, plural: &str, obj: &Value, column: &str) -> Value {
        let cols = columns(group, plural);
        let i = cols
            .iter()
            .position(|c| c.name == column)
            .unwrap_or_else(|| panic!("no column {column} for {plural}"));
        row(group, plural, obj, now())[i].clone()
    }

    fn secs(s: i64) -> String {
        human_duration(SignedDuration::from_secs(s))
    }

    // --- durations -------------------------------------------------------------------

    #[test]
    fn durations_under_two_minutes_are_seconds() {
        assert_eq!(secs(0), "0s");
        assert_eq!(secs(59), "59s");
        assert_eq!(secs(90), "90s");
        assert_eq!(secs(119), "119s");
    }

    #[test]
    fn durations_under_ten_minutes_show_minutes_and_seconds() {
        assert_eq!(secs(120), "2m");
        assert_eq!(secs(125), "2m5s");
        assert_eq!(secs(9 * 60 + 59), "9m59s");
    }

    #[test]
    fn durations_under_three_hours_are_minutes() {
        assert_eq!(secs(10 * 60 + 30), "10m");
        assert_eq!(secs(179 * 60 + 59), "179m");
    }

    #[test]
    fn durations_under_eight_hours_show_hours_and_minutes() {
        assert_eq!(secs(3 * 3600), "3h");
        assert_eq!(secs(3 * 3600 + 20 * 60 + 15), "3h20m");
        assert_eq!(secs(7 * 3600 + 59 * 60), "7h59m");
    }

    #[test]
    fn durations_under_two_days_are_hours() {
        assert_eq!(secs(8 * 3600 + 30 * 60), "8h");
        assert_eq!(secs(47 * 3600), "47h");
    }

    #[test]
    fn durations_under_eight_days_show_days_and_hours() {
        assert_eq!(secs(48 * 3600), "2d");
        assert_eq!(secs((3 * 24 + 5) * 3600), "3d5h");
        assert_eq!(secs((7 * 24 + 23) * 3600), "7d23h");
    }

    #[test]
    fn durations_under_two_years_are_days() {
        assert_eq!(secs(8 * 24 * 3600), "8d");
        assert_eq!(secs(729 * 24 * 3600), "729d");
    }

    #[test]
    fn long_durations_are_years() {
        assert_eq!(secs(730 * 24 * 3600), "2y");
        assert_eq!(secs((2 * 365 + 30) * 24 * 3600), "2y30d");
        assert_eq!(secs(8 * 365 * 24 * 3600 + 100 * 24 * 3600), "8y");
    }

    #[test]
    fn small_clock_skew_is_zero_and_larger_is_invalid() {
        assert_eq!(human_duration(SignedDuration::from_millis(-1500)), "0s");
        assert_eq!(secs(-1), "0s");
        assert_eq!(secs(-2), "<invalid>");
    }

    #[test]
    fn missing_timestamps_are_unknown() {
        assert_eq!(translate_timestamp_since(None, now()), "<unknown>");
        let pod = json!({"metadata": {"name": "p"}});
        assert_eq!(cell("", "pods", &pod, "Age"), "<unknown>");
        let zero = json!({"metadata": {"name": "p", "creationTimestamp": "0001-01-01T00:00:00Z"}});
        assert_eq!(cell("", "pods", &zero, "Age"), "<unknown>");
    }

    // --- columns ---------------------------------------------------------------------

    #[test]
    fn pod_columns_match_upstream() {
        let cols = columns("", "pods");
        assert_eq!(
            names(&cols),
            [
                "Name",
                "Ready",
                "Status",
                "Restarts",
                "Age",
                "IP",
                "Node",
                "Nominated Node",
                "Readiness Gates"
            ]
        );
        assert_eq!(
            wide_names(&cols),
            ["IP", "Node", "Nominated Node", "Readiness Gates"]
        );
        assert_eq!(cols[0].format, "name");
        assert!(cols[0]
            .description
            .starts_with("Name must be unique within a namespace."));
        assert!(cols.iter().all(|c| c.type_ == "string"));
    }

    #[test]
    fn workload_columns_match_upstream() {
        assert_eq!(
            names(&columns("apps", "deployments")),
            [
                "Name",
                "Ready",
                "Up-to-date",
                "Available",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
        assert_eq!(
            wide_names(&columns("apps", "deployments")),
            ["Containers", "Images", "Selector"]
        );
        assert_eq!(
            names(&columns("apps", "replicasets")),
            [
                "Name",
                "Desired",
                "Current",
                "Ready",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
        assert_eq!(
            names(&columns("apps", "statefulsets")),
            ["Name", "Ready", "Age", "Containers", "Images"]
        );
        assert_eq!(
            names(&columns("apps", "daemonsets")),
            [
                "Name",
                "Desired",
                "Current",
                "Ready",
                "Up-to-date",
                "Available",
                "Node Selector",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
        assert_eq!(
            names(&columns("batch", "jobs")),
            [
                "Name",
                "Status",
                "Completions",
                "Duration",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
        assert_eq!(
            names(&columns("batch", "cronjobs")),
            [
                "Name",
                "Schedule",
                "Timezone",
                "Suspend",
                "Active",
                "Last Schedule",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
    }

    #[test]
    fn core_columns_match_upstream() {
        assert_eq!(
            names(&columns("", "services")),
            [
                "Name",
                "Type",
                "Cluster-IP",
                "External-IP",
                "Port(s)",
                "Age",
                "Selector"
            ]
        );
        assert_eq!(names(&columns("", "namespaces")), ["Name", "Status", "Age"]);
        assert_eq!(names(&columns("", "configmaps")), ["Name", "Data", "Age"]);
        assert_eq!(
            names(&columns("", "secrets")),
            ["Name", "Type", "Data", "Age"]
        );
        assert_eq!(
            names(&columns("coordination.k8s.io", "leases")),
            ["Name", "Holder", "Age"]
        );
        let nodes = columns("", "nodes");
        assert_eq!(
            names(&nodes),
            [
                "Name",
                "Status",
                "Roles",
                "Age",
                "Version",
                "Internal-IP",
                "External-IP",
                "OS-Image",
                "Kernel-Version",
                "Container-Runtime"
            ]
        );
        assert_eq!(wide_names(&nodes).len(), 5);
    }

    #[test]
    fn event_columns_match_upstream_in_both_groups() {
        let cols = columns("", "events");
        assert_eq!(
            names(&cols),
            [
                "Last Seen",
                "Type",
                "Reason",
                "Object",
                "Subobject",
                "Source",
                "Message",
                "First Seen",
                "Count",
                "Name"
            ]
        );
        assert_eq!(
            wide_names(&cols),
            ["Subobject", "Source", "First Seen", "Count", "Name"]
        );
        assert_eq!(cols[9].format, "name");
        assert_eq!(columns("events.k8s.io", "events"), cols);
    }

    #[test]
    fn hpa_columns_are_the_same_for_v1_and_v2() {
        assert_eq!(
            names(&columns("autoscaling", "horizontalpodautoscalers")),
            [
                "Name",
                "Reference",
                "Targets",
                "MinPods",
                "MaxPods",
                "Replicas",
                "Age"
            ]
        );
    }

    #[test]
    fn resources_without_an_upstream_printer_get_name_and_created_at() {
        for (g, p) in [
            ("", "limitranges"),
            ("rbac.authorization.k8s.io", "roles"),
            ("rbac.authorization.k8s.io", "clusterroles"),
            ("example.com", "widgets"),
        ] {
            let cols = columns(g, p);
            assert_eq!(names(&cols), ["Name", "Created At"], "{p}");
            assert_eq!(cols[1].type_, "date");
        }
        let obj =
            json!({"metadata": {"name": "admin", "creationTimestamp": "2024-01-02T03:04:05Z"}});
        assert_eq!(
            row("rbac.authorization.k8s.io", "clusterroles", &obj, now()),
            vec![json!("admin"), json!("2024-01-02T03:04:05Z")]
        );
        let bare = json!({"metadata": {"name": "x"}});
        assert_eq!(
            row("", "limitranges", &bare, now())[1],
            "0001-01-01T00:00:00Z"
        );
    }

    #[test]
    fn every_resource_has_one_cell_per_column() {
        let samples = [
            json!({}),
            json!({"metadata": {"name": "x", "creationTimestamp": ago(30)}}),
            json!({"metadata": {"name": "x"}, "spec": {}, "status": {}}),
        ];
        for r in RESOURCES {
            let cols = columns(r.group, r.plural);
            assert!(!cols.is_empty());
            assert_eq!(
                cols.iter()
                    .filter(|c| c.format == "name" && c.name == "Name")
                    .count(),
                1
            );
            for obj in &samples {
                assert_eq!(
                    row(r.group, r.plural, obj, now()).len(),
                    cols.len(),
                    "{}/{} {}",
                    r.group,
                    r.version,
                    r.plural
                );
            }
        }
    }

    #[test]
    fn column_json_has_the_table_fields() {
        let c = &columns("", "pods")[5];
        let j = c.to_json();
        assert_eq!(j["name"], "IP");
        assert_eq!(j["type"], "string");
        assert_eq!(j["format"], "");
        assert_eq!(j["priority"], 1);
        assert!(j["description"].as_str().unwrap().contains("podIP"));
    }

    // --- pods ------------------------------------------------------------------------

    fn running(name: &str, ready: bool, restarts: i64) -> Value {
        json!({"name": name, "ready": ready, "restartCount": restarts,
               "state": {"running": {"startedAt": ago(600)}}})
    }

    fn pod(containers: &[&str], status: Value) -> Value {
        let cs: Vec<Value> = containers
            .iter()
            .map(|c| json!({"name": c, "image": format!("{c}:1")}))
            .collect();
        json!({
            "metadata": {"name": "web-0", "namespace": "default", "creationTimestamp": ago(3600)},
            "spec": {"containers": cs, "nodeName": "node-1"},
            "status": status,
        })
    }

    #[test]
    fn pod_with_one_of_two_containers_ready() {
        let p = pod(
            &["app", "sidecar"],
            json!({"phase": "Running", "containerStatuses": [
                running("app", true, 0), running("sidecar", false, 0)]}),
        );
        let r = row("", "pods", &p, now());
        assert_eq!(r[0], "web-0");
        assert_eq!(r[1], "1/2");
        assert_eq!(r[2], "Running");
        assert_eq!(r[3], "0");
        assert_eq!(r[4], "60m");
        assert_eq!(pod_ready(&p), "1/2");
    }

    #[test]
    fn deleted_pod_is_terminating() {
        let mut p = pod(
            &["app"],
            json!({"phase": "Running", "containerStatuses": [running("app", true, 0)]}),
        );
        p["metadata"]["deletionTimestamp"] = json!(ago(5));
        assert_eq!(pod_status(&p), "Terminating");
    }

    #[test]
    fn deleted_completed_pod_keeps_its_status() {
        let mut p = pod(
            &["app"],
            json!({"phase": "Succeeded", "containerStatuses": [{"name": "app", "ready": false,
                "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}),
        );
        p["metadata"]["deletionTimestamp"] = json!(ago(5));
        assert_eq!(pod_status(&p), "Completed");
        assert_eq!(pod_ready(&p), "0/1");
    }

    #[test]
    fn deleted_pod_on_lost_node_is_unknown() {
        let mut p = pod(&["app"], json!({"phase": "Running", "reason": "NodeLost"}));
        p["metadata"]["deletionTimestamp"] = json!(ago(5));
        assert_eq!(pod_status(&p), "Unknown");
    }

    #[test]
    fn pending_pod_without_statuses() {
        let p = pod(&["app"], json!({"phase": "Pending"}));
        let r = row("", "pods", &p, now());
        assert_eq!(r[1], "0/1");
        assert_eq!(r[2], "Pending");
        assert_eq!(r[3], "0");
    }

    #[test]
    fn waiting_container_reason_is_the_status() {
        let p = pod(
            &["app"],
            json!({"phase": "Pending", "containerStatuses": [{"name": "app", "ready": false,
                "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}]}),
        );
        assert_eq!(pod_status(&p), "ContainerCreating");
    }

    #[test]
    fn crash_looping_pod_shows_restarts_and_when() {
        let p = pod(
            &["app"],
            json!({"phase": "Running", "containerStatuses": [{"name": "app", "ready": false,
                "restartCount": 4,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(300)}}}]}),
        );
        let r = row("", "pods", &p, now());
        assert_eq!(r[2], "CrashLoopBackOff");
        assert_eq!(r[3], "4 (5m ago)");
    }

    #[test]
    fn restarts_without_a_termination_time_are_just_the_count() {
        let p = pod(
            &["app"],
            json!({"phase": "Running", "containerStatuses": [running("app", true, 2)]}),
        );
        assert_eq!(cell("", "pods", &p, "Restarts"), "2");
    }

    #[test]
    fn terminated_container_without_reason_shows_exit_code_or_signal() {
        let term = |t: Value| {
            pod(
                &["app"],
                json!({"phase": "Running", "containerStatuses": [{"name": "app", "ready": false,
                    "restartCount": 0, "state": {"terminated": t}}]}),
            )
        };
        assert_eq!(pod_status(&term(json!({"exitCode": 137}))), "ExitCode:137");
        assert_eq!(
            pod_status(&term(json!({"exitCode": 0, "signal": 9}))),
            "Signal:9"
        );
        assert_eq!(
            pod_status(&term(json!({"exitCode": 137, "reason": "OOMKilled"}))),
            "OOMKilled"
        );
    }

    #[test]
    fn first_container_reason_wins() {
        let p = pod(
            &["a", "b"],
            json!({"phase": "Pending", "containerStatuses": [
                {"name": "a", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff"}}},
                {"name": "b", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}},
            ]}),
        );
        assert_eq!(pod_status(&p), "ImagePullBackOff");
    }

    #[test]
    fn evicted_pod_shows_its_reason() {
        let p = pod(&["app"], json!({"phase": "Failed", "reason": "Evicted"}));
        assert_eq!(pod_status(&p), "Evicted");
    }

    fn init_pod(init_statuses: Value) -> Value {
        json!({
            "metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "app"}]},
            "status": {"phase": "Pending", "initContainerStatuses": init_statuses,
                "containerStatuses": [{"name": "app", "ready": false, "restartCount": 0,
                    "state": {"waiting": {"reason": "PodInitializing"}}}]},
        })
    }

    #[test]
    fn init_container_progress() {
        let p = init_pod(json!([
            {"name": "i1", "ready": false, "restartCount": 0, "state": {"running": {}}},
            {"name": "i2", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}},
        ]));
        assert_eq!(pod_status(&p), "Init:0/2");
        let p = init_pod(json!([
            {"name": "i1", "ready": true, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
            {"name": "i2", "ready": false, "restartCount": 0, "state": {"running": {}}},
        ]));
        assert_eq!(pod_status(&p), "Init:1/2");
        assert_eq!(pod_ready(&p), "0/1");
    }

    #[test]
    fn failing_init_containers() {
        let p = init_pod(json!([
            {"name": "i1", "ready": false, "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
             "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(90)}}},
        ]));
        assert_eq!(pod_status(&p), "Init:CrashLoopBackOff");
        assert_eq!(cell("", "pods", &p, "Restarts"), "3 (90s ago)");
        let term = |t: Value| {
            init_pod(
                json!([{"name": "i1", "ready": false, "restartCount": 0, "state": {"terminated": t}}]),
            )
        };
        assert_eq!(
            pod_status(&term(json!({"exitCode": 1, "reason": "Error"}))),
            "Init:Error"
        );
        assert_eq!(pod_status(&term(json!({"exitCode": 2}))), "Init:ExitCode:2");
        assert_eq!(
            pod_status(&term(json!({"exitCode": 2, "signal": 15}))),
            "Init:Signal:15"
        );
    }

    #[test]
    fn sidecar_init_containers_count_as_containers() {
        let p = json!({
            "metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
                     "containers": [{"name": "app"}]},
            "status": {"phase": "Running",
                "conditions": [{"type": "Initialized", "status": "True"}],
                "initContainerStatuses": [{"name": "proxy", "ready": true, "started": true, "restartCount": 1,
                    "state": {"running": {}}}],
                "containerStatuses": [running("app", true, 0)]},
        });
        let r = row("", "pods", &p, now());
        assert_eq!(r[1], "2/2");
        assert_eq!(r[2], "Running");
        assert_eq!(r[3], "1");
    }

    #[test]
    fn completed_pod_with_a_running_container_is_running_or_not_ready() {
        let status = |ready: &str| {
            json!({"phase": "Running",
            "conditions": [{"type": "Ready", "status": ready}],
            "containerStatuses": [
                {"name": "a", "ready": false, "restartCount": 0,
                 "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                running("b", true, 0),
            ]})
        };
        assert_eq!(pod_status(&pod(&["a", "b"], status("True"))), "Running");
        assert_eq!(pod_status(&pod(&["a", "b"], status("False"))), "NotReady");
    }

    #[test]
    fn scheduling_gated_pod() {
        let p = pod(
            &["app"],
            json!({"phase": "Pending", "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}),
        );
        assert_eq!(pod_status(&p), "SchedulingGated");
    }

    #[test]
    fn pod_wide_columns() {
        let mut p = pod(
            &["app"],
            json!({"phase": "Running", "podIP": "10.0.0.9", "podIPs": [{"ip": "10.0.0.9"}, {"ip": "fd00::9"}],
                "conditions": [{"type": "example.com/ready", "status": "True"}],
                "containerStatuses": [running("app", true, 0)]}),
        );
        p["spec"]["readinessGates"] =
            json!([{"conditionType": "example.com/ready"}, {"conditionType": "example.com/other"}]);
        let r = row("", "pods", &p, now());
        assert_eq!(r[5], "10.0.0.9");
        assert_eq!(r[6], "node-1");
        assert_eq!(r[7], "<none>");
        assert_eq!(r[8], "1/2");
        let bare = json!({"metadata": {"name": "p"}});
        let r = row("", "pods", &bare, now());
        assert_eq!(
            &r[5..],
            &[
                json!("<none>"),
                json!("<none>"),
                json!("<none>"),
                json!("<none>")
            ]
        );
        let only_pod_ip = pod(&["app"], json!({"podIP": "10.1.1.1"}));
        assert_eq!(cell("", "pods", &only_pod_ip, "IP"), "10.1.1.1");
    }

    // --- workloads -------------------------------------------------------------------

    fn template(containers: &[(&str, &str)]) -> Value {
        let cs: Vec<Value> = containers
            .iter()
            .map(|(n, i)| json!({"name": n, "image": i}))
            .collect();
        json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": cs}})
    }

    #[test]
    fn deployment_row() {
        let d = json!({
            "metadata": {"name": "web", "creationTimestamp": ago(90)},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web", "tier": "fe"}},
                     "template": template(&[("nginx", "nginx:1.25"), ("log", "busybox")])},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
        });
        assert_eq!(
            row("apps", "deployments", &d, now()),
            vec![
                json!("web"),
                json!("2/3"),
                json!(3),
                json!(2),
                json!("90s"),
                json!("nginx,log"),
                json!("nginx:1.25,busybox"),
                json!("app=web,tier=fe"),
            ]
        );
    }

    #[test]
    fn deployment_defaults_to_one_replica_and_empty_selector() {
        let d = json!({"metadata": {"name": "web"}, "spec": {}});
        let r = row("apps", "deployments", &d, now());
        assert_eq!(r[1], "0/1");
        assert_eq!(r[7], "");
    }

    #[test]
    fn replica_set_row_formats_set_based_selectors() {
        let rs = json!({
            "metadata": {"name": "web-5d9"},
            "spec": {"replicas": 2, "template": template(&[("a", "a:1")]),
                "selector": {"matchLabels": {"app": "web"}, "matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["fe", "be"]},
                    {"key": "legacy", "operator": "DoesNotExist"},
                    {"key": "env", "operator": "NotIn", "values": ["dev"]},
                    {"key": "canary", "operator": "Exists"}]}},
            "status": {"replicas": 2, "readyReplicas": 1},
        });
        let r = row("apps", "replicasets", &rs, now());
        assert_eq!(&r[1..4], &[json!(2), json!(2), json!(1)]);
        assert_eq!(
            r[7],
            "app=web,canary,env notin (dev),!legacy,tier in (be,fe)"
        );
    }

    #[test]
    fn invalid_or_empty_selectors() {
        let bad = json!({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]});
        assert_eq!(format_label_selector(Some(&bad)), "<error>");
        assert_eq!(format_label_selector(Some(&json!({}))), "<none>");
        assert_eq!(format_label_selector(None), "<none>");
        assert_eq!(format_labels(Some(&json!({"b": "2", "a": "1"}))), "a=1,b=2");
        assert_eq!(format_labels(None), "<none>");
        let d = json!({"metadata": {"name": "d"}, "spec": {"selector": bad}});
        assert_eq!(cell("apps", "deployments", &d, "Selector"), "<invalid>");
    }

    #[test]
    fn statefulset_and_replication_controller_rows() {
        let sts = json!({"metadata": {"name": "db"}, "spec": {"replicas": 3,
            "template": template(&[("pg", "postgres:16")])}, "status": {"readyReplicas": 1}});
        let r = row("apps", "statefulsets", &sts, now());
        assert_eq!(r[1], "1/3");
        assert_eq!(r[4], "postgres:16");
        let rc = json!({"metadata": {"name": "rc"}, "spec": {"replicas": 2, "selector": {"app": "x"},
            "template": template(&[("c", "i")])}, "status": {"replicas": 2, "readyReplicas": 2}});
        let r = row("", "replicationcontrollers", &rc, now());
        assert_eq!(&r[1..4], &[json!(2), json!(2), json!(2)]);
        assert_eq!(r[7], "app=x");
    }

    #[test]
    fn daemonset_row() {
        let mut t = template(&[("agent", "agent:2")]);
        t["spec"]["nodeSelector"] = json!({"kubernetes.io/os": "linux"});
        let ds = json!({"metadata": {"name": "agent"}, "spec": {"template": t,
            "selector": {"matchLabels": {"app": "agent"}}},
            "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2,
                "updatedNumberScheduled": 3, "numberAvailable": 2}});
        let r = row("apps", "daemonsets", &ds, now());
        assert_eq!(
            &r[1..6],
            &[json!(3), json!(3), json!(2), json!(3), json!(2)]
        );
        assert_eq!(r[6], "kubernetes.io/os=linux");
        assert_eq!(r[10], "app=agent");
        let bare = json!({"metadata": {"name": "x"}});
        assert_eq!(cell("apps", "daemonsets", &bare, "Node Selector"), "<none>");
    }

    fn job(spec: Value, status: Value) -> Value {
        json!({"metadata": {"name": "pi", "creationTimestamp": ago(120)}, "spec": spec, "status": status})
    }

    #[test]
    fn completed_job() {
        let j = job(
            json!({"completions": 1, "template": template(&[("pi", "perl")])}),
            json!({"succeeded": 1, "startTime": ago(100), "completionTime": ago(75),
                "conditions": [{"type": "SuccessCriteriaMet", "status": "True"},
                               {"type": "Complete", "status": "True"}]}),
        );
        let r = row("batch", "jobs", &j, now());
        assert_eq!(
            &r[..5],
            &[
                json!("pi"),
                json!("Complete"),
                json!("1/1"),
                json!("25s"),
                json!("2m")
            ]
        );
    }

    #[test]
    fn running_job_duration_counts_to_now() {
        let j = job(
            json!({"parallelism": 3}),
            json!({"startTime": ago(30), "active": 3}),
        );
        let r = row("batch", "jobs", &j, now());
        assert_eq!(r[1], "Running");
        assert_eq!(r[2], "0/1 of 3");
        assert_eq!(r[3], "30s");
        let not_started = job(json!({}), json!({}));
        assert_eq!(cell("batch", "jobs", &not_started, "Duration"), "");
        assert_eq!(cell("batch", "jobs", &not_started, "Completions"), "0/1");
    }

    #[test]
    fn job_statuses() {
        let with = |ty: &str| {
            job(
                json!({}),
                json!({"conditions": [{"type": ty, "status": "True"}]}),
            )
        };
        assert_eq!(cell("batch", "jobs", &with("Failed"), "Status"), "Failed");
        assert_eq!(
            cell("batch", "jobs", &with("Suspended"), "Status"),
            "Suspended"
        );
        assert_eq!(
            cell("batch", "jobs", &with("FailureTarget"), "Status"),
            "FailureTarget"
        );
        let mut deleted = with("Suspended");
        deleted["metadata"]["deletionTimestamp"] = json!(ago(1));
        assert_eq!(cell("batch", "jobs", &deleted, "Status"), "Terminating");
        let false_complete = job(
            json!({}),
            json!({"conditions": [{"type": "Complete", "status": "False"}]}),
        );
        assert_eq!(cell("batch", "jobs", &false_complete, "Status"), "Running");
    }

    #[test]
    fn cronjob_row() {
        let cj = json!({
            "metadata": {"name": "backup", "creationTimestamp": ago(7200)},
            "spec": {"schedule": "*/5 * * * *", "suspend": false,
                "jobTemplate": {"spec": {"template": template(&[("b", "backup:1")])}}},
            "status": {"active": [{"name": "backup-1"}], "lastScheduleTime": ago(60)},
        });
        let r = row("batch", "cronjobs", &cj, now());
        assert_eq!(
            &r[..7],
            &[
                json!("backup"),
                json!("*/5 * * * *"),
                json!("<none>"),
                json!("False"),
                json!(1),
                json!("60s"),
                json!("120m")
            ]
        );
        let bare = json!({"metadata": {"name": "x"}, "spec": {"timeZone": "Etc/UTC"}});
        let r = row("batch", "cronjobs", &bare, now());
        assert_eq!(
            &r[2..6],
            &[
                json!("Etc/UTC"),
                json!("<unset>"),
                json!(0),
                json!("<none>")
            ]
        );
    }

    #[test]
    fn pdb_row() {
        let pdb = json!({"metadata": {"name": "web"}, "spec": {"minAvailable": 2},
            "status": {"disruptionsAllowed": 1}});
        let r = row("policy", "poddisruptionbudgets", &pdb, now());
        assert_eq!(&r[1..4], &[json!("2"), json!("N/A"), json!(1)]);
        let pct = json!({"metadata": {"name": "web"}, "spec": {"maxUnavailable": "25%"}});
        let r = row("policy", "poddisruptionbudgets", &pct, now());
        assert_eq!(&r[1..4], &[json!("N/A"), json!("25%"), json!(0)]);
    }

    #[test]
    fn controller_revision_names_its_owner() {
        let cr = json!({"metadata": {"name": "agent-7c", "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "controller": true}]},
            "revision": 3});
        let r = row("apps", "controllerrevisions", &cr, now());
        assert_eq!(&r[1..3], &[json!("daemonset.apps/agent"), json!(3)]);
        let orphan = json!({"metadata": {"name": "x"}, "revision": 1});
        assert_eq!(
            cell("apps", "controllerrevisions", &orphan, "Controller"),
            "<none>"
        );
    }

    #[test]
    fn pod_template_row() {
        let pt = json!({"metadata": {"name": "t"}, "template": template(&[("a", "img")])});
        assert_eq!(
            row("", "podtemplates", &pt, now()),
            vec![json!("t"), json!("a"), json!("img"), json!("app=web")]
        );
    }

    // --- services and networking -----------------------------------------------------

    #[test]
    fn cluster_ip_service() {
        let svc = json!({
            "metadata": {"name": "kubernetes", "creationTimestamp": ago(86400 * 3)},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]},
        });
        assert_eq!(
            row("", "services", &svc, now()),
            vec![
                json!("kubernetes"),
                json!("ClusterIP"),
                json!("10.96.0.1"),
                json!("<none>"),
                json!("443/TCP"),
                json!("3d"),
                json!("<none>"),
            ]
        );
    }

    #[test]
    fn node_port_and_headless_services() {
        let svc = json!({"metadata": {"name": "web"}, "spec": {"type": "NodePort", "clusterIP": "10.96.1.2",
            "selector": {"app": "web"}, "externalIPs": ["1.2.3.4"],
            "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]}});
        let r = row("", "services", &svc, now());
        assert_eq!(
            &r[1..5],
            &[
                json!("NodePort"),
                json!("10.96.1.2"),
                json!("1.2.3.4"),
                json!("80:30080/TCP,53/UDP")
            ]
        );
        assert_eq!(r[6], "app=web");
        let headless = json!({"metadata": {"name": "db"}, "spec": {"clusterIP": "None"}});
        let r = row("", "services", &headless, now());
        assert_eq!(
            &r[1..5],
            &[
                json!("ClusterIP"),
                json!("None"),
                json!("<none>"),
                json!("<none>")
            ]
        );
    }

    #[test]
    fn load_balancer_and_external_name_services() {
        let lb = |status: Value, external: Value| {
            json!({"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "externalIPs": external,
                "ports": [{"port": 80, "nodePort": 31000, "protocol": "TCP"}]}, "status": status})
        };
        assert_eq!(
            cell("", "services", &lb(json!({}), json!([])), "External-IP"),
            "<pending>"
        );
        let with_ingress = lb(
            json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}, {"hostname": "lb.example.com"}]}}),
            json!([]),
        );
        assert_eq!(
            cell("", "services", &with_ingress, "External-IP"),
            "203.0.113.9,lb.example.com"
        );
        let both = lb(
            json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}]}}),
            json!(["1.1.1.1"]),
        );
        assert_eq!(
            cell("", "services", &both, "External-IP"),
            "203.0.113.9,1.1.1.1"
        );
        let ext = json!({"metadata": {"name": "ext"}, "spec": {"type": "ExternalName", "externalName": "db.example.com"}});
        let r = row("", "services", &ext, now());
        assert_eq!(
            &r[2..5],
            &[json!("<none>"), json!("db.example.com"), json!("<none>")]
        );
    }

    #[test]
    fn endpoints_rows() {
        let ep = json!({"metadata": {"name": "web"}, "subsets": [{
            "addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}, {"ip": "10.0.0.3"}, {"ip": "fd00::4"}],
            "ports": [{"port": 8080}]}]});
        assert_eq!(
            cell("", "endpoints", &ep, "Endpoints"),
            "10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080 + 1 more..."
        );
        let two = json!({"metadata": {"name": "x"}, "subsets": [{"addresses": [{"ip": "fd00::4"}], "ports": [{"port": 80}]},
            {"addresses": [{"ip": "10.0.0.5"}]}]});
        assert_eq!(
            cell("", "endpoints", &two, "Endpoints"),
            "[fd00::4]:80,10.0.0.5"
        );
        let empty = json!({"metadata": {"name": "x"}});
        assert_eq!(cell("", "endpoints", &empty, "Endpoints"), "<none>");
    }

    #[test]
    fn endpoint_slice_row() {
        let eps = json!({"metadata": {"name": "web-abc"}, "addressType": "IPv4",
            "ports": [{"port": 80}, {"name": "metrics"}, {}],
            "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2", "10.0.0.3"]}, {"addresses": ["10.0.0.4"]}]});
        let r = row("discovery.k8s.io", "endpointslices", &eps, now());
        assert_eq!(
            &r[1..4],
            &[
                json!("IPv4"),
                json!("80,metrics,*"),
                json!("10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...")
            ]
        );
        let empty = json!({"metadata": {"name": "x"}, "addressType": "IPv4"});
        let r = row("discovery.k8s.io", "endpointslices", &empty, now());
        assert_eq!(&r[2..4], &[json!("<unset>"), json!("<unset>")]);
    }

    #[test]
    fn ingress_rows() {
        let ing = json!({"metadata": {"name": "main"}, "spec": {"ingressClassName": "nginx",
            "rules": [{"host": "a.example.com"}, {"host": "b.example.com"}, {}, {"host": "c.example.com"}, {"host": "d.example.com"}],
            "tls": [{"hosts": ["a.example.com"]}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}});
        let r = row("networking.k8s.io", "ingresses", &ing, now());
        assert_eq!(
            &r[1..5],
            &[
                json!("nginx"),
                json!("a.example.com,b.example.com,c.example.com + 2 more..."),
                json!("192.0.2.10"),
                json!("80, 443")
            ]
        );
        let bare = json!({"metadata": {"name": "x"}, "spec": {"defaultBackend": {}}});
        let r = row("networking.k8s.io", "ingresses", &bare, now());
        assert_eq!(
            &r[1..5],
            &[json!("<none>"), json!("*"), json!(""), json!("80")]
        );
    }

    #[test]
    fn ingress_class_and_network_policy_rows() {
        let ic = json!({"metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx",
            "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external-lb"}}});
        let r = row("networking.k8s.io", "ingressclasses", &ic, now());
        assert_eq!(
            &r[1..3],
            &[
                json!("k8s.io/ingress-nginx"),
                json!("IngressParameters.k8s.example.com/external-lb")
            ]
        );
        let np = json!({"metadata": {"name": "deny"}, "spec": {"podSelector": {}}});
        assert_eq!(
            cell("networking.k8s.io", "networkpolicies", &np, "Pod-Selector"),
            "<none>"
        );
        let np = json!({"metadata": {"name": "web"}, "spec": {"podSelector": {"matchLabels": {"app": "web"}}}});
        assert_eq!(
            cell("networking.k8s.io", "networkpolicies", &np, "Pod-Selector"),
            "app=web"
        );
    }

    // --- nodes, namespaces, config ---------------------------------------------------

    fn node(conditions: Value) -> Value {
        json!({
            "metadata": {"name": "node-1", "creationTimestamp": ago(86400 * 10),
                "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "master",
                           "node-role.kubernetes.io/": "x", "kubernetes.io/hostname": "node-1"}},
            "status": {"conditions": conditions,
                "addresses": [{"type": "InternalIP", "address": "192.168.1.10"}, {"type": "Hostname", "address": "node-1"}],
                "nodeInfo": {"kubeletVersion": "v1.33.1", "osImage": "Debian GNU/Linux 12 (bookworm)",
                             "kernelVersion": "6.1.0", "containerRuntimeVersion": "containerd://1.7.0"}},
        })
    }

    #[test]
    fn ready_node_row() {
        let n = node(
            json!([{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}]),
        );
        assert_eq!(
            row("", "nodes", &n, now()),
            vec![
                json!("node-1"),
                json!("Ready"),
                json!("control-plane,master"),
                json!("10d"),
                json!("v1.33.1"),
                json!("192.168.1.10"),
                json!("<none>"),
                json!("Debian GNU/Linux 12 (bookworm)"),
                json!("6.1.0"),
                json!("containerd://1.7.0"),
            ]
        );
    }

    #[test]
    fn node_statuses() {
        let mut n = node(json!([{"type": "Ready", "status": "Unknown"}]));
        n["spec"] = json!({"unschedulable": true});
        assert_eq!(
            cell("", "nodes", &n, "Status"),
            "NotReady,SchedulingDisabled"
        );
        let bare = json!({"metadata": {"name": "n"}});
        let r = row("", "nodes", &bare, now());
        assert_eq!(&r[1..3], &[json!("Unknown"), json!("<none>")]);
        assert_eq!(r[7], "<unknown>");
    }

    #[test]
    fn namespace_configmap_secret_serviceaccount_lease_rows() {
        let ns = json!({"metadata": {"name": "default", "creationTimestamp": ago(300)}, "status": {"phase": "Active"}});
        assert_eq!(
            row("", "namespaces", &ns, now()),
            vec![json!("default"), json!("Active"), json!("5m")]
        );
        let cm = json!({"metadata": {"name": "cfg"}, "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}});
        assert_eq!(cell("", "configmaps", &cm, "Data"), 3);
        let secret = json!({"metadata": {"name": "s"}, "type": "Opaque", "data": {"u": "eA==", "p": "eQ=="}});
        let r = row("", "secrets", &secret, now());
        assert_eq!(&r[1..3], &[json!("Opaque"), json!(2)]);
        let sa = json!({"metadata": {"name": "default"}, "secrets": [{"name": "t"}]});
        assert_eq!(cell("", "serviceaccounts", &sa, "Secrets"), 1);
        let lease = json!({"metadata": {"name": "kube-scheduler"}, "spec": {"holderIdentity": "node-1_abc"}});
        assert_eq!(
            cell("coordination.k8s.io", "leases", &lease, "Holder"),
            "node-1_abc"
        );
        let free = json!({"metadata": {"name": "l"}, "spec": {}});
        assert_eq!(cell("coordination.k8s.io", "leases", &free, "Holder"), "");
    }

    #[test]
    fn resource_quota_splits_requests_and_limits() {
        let q = json!({"metadata": {"name": "q"}, "status": {
            "hard": {"requests.cpu": "1000m", "pods": "10", "limits.cpu": "2", "limits.memory": "2048Mi"},
            "used": {"requests.cpu": "500m", "pods": "1", "limits.cpu": "1"}}});
        let r = row("", "resourcequotas", &q, now());
        assert_eq!(r[1], "pods: 1/10, requests.cpu: 500m/1");
        assert_eq!(r[2], "limits.cpu: 1/2, limits.memory: 0/2Gi");
    }

    // --- storage ---------------------------------------------------------------------

    #[test]
    fn persistent_volume_row() {
        let pv = json!({"metadata": {"name": "pv-1", "creationTimestamp": ago(60)},
            "spec": {"capacity": {"storage": "10240Mi"}, "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "fast",
                "claimRef": {"namespace": "default", "name": "data"}, "volumeMode": "Filesystem"},
            "status": {"phase": "Bound"}});
        assert_eq!(
            row("", "persistentvolumes", &pv, now()),
            vec![
                json!("pv-1"),
                json!("10Gi"),
                json!("RWO,RWX"),
                json!("Retain"),
                json!("Bound"),
                json!("default/data"),
                json!("fast"),
                json!("<unset>"),
                json!(""),
                json!("60s"),
                json!("Filesystem"),
            ]
        );
    }

    #[test]
    fn persistent_volume_claim_rows() {
        let pending = json!({"metadata": {"name": "data", "annotations": {"volume.beta.kubernetes.io/storage-class": "old"}},
            "spec": {"storageClassName": "fast", "resources": {"requests": {"storage": "1Gi"}}},
            "status": {"phase": "Pending"}});
        let r = row("", "persistentvolumeclaims", &pending, now());
        assert_eq!(
            &r[1..8],
            &[
                json!("Pending"),
                json!(""),
                json!(""),
                json!(""),
                json!("old"),
                json!("<unset>"),
                json!("<unknown>")
            ]
        );
        assert_eq!(r[8], "<unset>");
        let mut bound = json!({"metadata": {"name": "data"},
            "spec": {"volumeName": "pv-1", "storageClassName": "fast"},
            "status": {"phase": "Bound", "capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOncePod"]}});
        let r = row("", "persistentvolumeclaims", &bound, now());
        assert_eq!(
            &r[1..6],
            &[
                json!("Bound"),
                json!("pv-1"),
                json!("10Gi"),
                json!("RWOP"),
                json!("fast")
            ]
        );
        bound["metadata"]["deletionTimestamp"] = json!(ago(1));
        assert_eq!(
            cell("", "persistentvolumeclaims", &bound, "Status"),
            "Terminating"
        );
    }

    #[test]
    fn storage_class_row_marks_the_default() {
        let sc = json!({"metadata": {"name": "standard",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "rancher.io/local-path"});
        let r = row("storage.k8s.io", "storageclasses", &sc, now());
        assert_eq!(
            &r[..5],
            &[
                json!("standard (default)"),
                json!("rancher.io/local-path"),
                json!("Delete"),
                json!("Immediate"),
                json!(false)
            ]
        );
    }

    #[test]
    fn csi_and_volume_attachment_rows() {
        let d = json!({"metadata": {"name": "csi.example.com"}, "spec": {}});
        let r = row("storage.k8s.io", "csidrivers", &d, now());
        assert_eq!(
            &r[1..7],
            &[
                json!(true),
                json!(false),
                json!(false),
                json!("<unset>"),
                json!(false),
                json!("<none>")
            ]
        );
        let d = json!({"metadata": {"name": "x"}, "spec": {"attachRequired": false,
            "tokenRequests": [{"audience": "a"}, {"audience": "b"}], "volumeLifecycleModes": ["Persistent", "Ephemeral"]}});
        let r = row("storage.k8s.io", "csidrivers", &d, now());
        assert_eq!(
            &[r[1].clone(), r[4].clone(), r[6].clone()],
            &[json!(false), json!("a,b"), json!("Persistent,Ephemeral")]
        );
        let n = json!({"metadata": {"name": "node-1"}, "spec": {"drivers": [{"name": "a"}, {"name": "b"}]}});
        assert_eq!(cell("storage.k8s.io", "csinodes", &n, "Drivers"), 2);
        let va = json!({"metadata": {"name": "csi-123"}, "spec": {"attacher": "csi.example.com",
            "source": {"persistentVolumeName": "pv-1"}, "nodeName": "node-1"}, "status": {"attached": true}});
        let r = row("storage.k8s.io", "volumeattachments", &va, now());
        assert_eq!(
            &r[1..5],
            &[
                json!("csi.example.com"),
                json!("pv-1"),
                json!("node-1"),
                json!(true)
            ]
        );
        let cap = json!({"metadata": {"name": "c"}, "storageClassName": "fast"});
        assert_eq!(
            row("storage.k8s.io", "csistoragecapacities", &cap, now())[2],
            "<unset>"
        );
    }

    // --- events ----------------------------------------------------------------------

    fn core_event() -> Value {
        json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "web-0.17c", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web-0", "fieldPath": "spec.containers{app}"},
            "reason": "Pulled",
            "message": "  Container image \"nginx\" already present on machine\n",
            "source": {"component": "kubelet", "host": "node-1"},
            "firstTimestamp": ago(600),
            "lastTimestamp": ago(90),
            "count": 4,
            "type": "Normal",
        })
    }

    #[test]
    fn core_event_row() {
        assert_eq!(
            row("", "events", &core_event(), now()),
            vec![
                json!("90s"),
                json!("Normal"),
                json!("Pulled"),
                json!("pod/web-0"),
                json!("spec.containers{app}"),
                json!("kubelet, node-1"),
                json!("Container image \"nginx\" already present on machine"),
                json!("10m"),
                json!(4),
                json!("web-0.17c"),
            ]
        );
    }

    #[test]
    fn events_k8s_io_event_prints_like_its_core_form() {
        let core = core_event();
        let ev = convert::core_event_to_events_v1(&core);
        assert_eq!(
            row("events.k8s.io", "events", &ev, now()),
            row("", "events", &core, now())
        );
    }

    #[test]
    fn new_style_event_uses_event_time_series_and_reporting_controller() {
        let ev = json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "x"},
            "eventTime": format!("{}", ago(300)),
            "reportingController": "example.com/ctrl",
            "reason": "Synced", "regarding": {"kind": "Deployment", "name": "web"},
            "note": "ok", "type": "Normal",
        });
        let r = row("events.k8s.io", "events", &ev, now());
        assert_eq!(
            &r[..4],
            &[
                json!("5m"),
                json!("Normal"),
                json!("Synced"),
                json!("deployment/web")
            ]
        );
        assert_eq!(
            &r[5..9],
            &[
                json!("example.com/ctrl"),
                json!("ok"),
                json!("5m"),
                json!(1)
            ]
        );
        let mut series = ev.clone();
        series["series"] = json!({"count": 12, "lastObservedTime": ago(20)});
        let r = row("events.k8s.io", "events", &series, now());
        assert_eq!(r[0], "20s");
        assert_eq!(r[8], 12);
    }

    #[test]
    fn event_without_times_or_name() {
        let ev = json!({"metadata": {"name": "e"}, "involvedObject": {"kind": "Node"}, "type": "Warning"});
        let r = row("", "events", &ev, now());
        assert_eq!(
            &r[..4],
            &[
                json!("<unknown>"),
                json!("Warning"),
                json!(""),
                json!("node")
            ]
        );
        assert_eq!(r[7], "<unknown>");
    }

    // --- rbac, certificates, scheduling ----------------------------------------------

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

    // --- autoscaling -----------------------------------------------------------------

    fn hpa_v2(metrics: Value, current: Value) -> Value {
        json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "creationTimestamp": ago(3 * 3600)},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "minReplicas": 1, "maxReplicas": 10, "metrics": metrics},
            "status": {"currentReplicas": 3, "desiredReplicas": 3, "currentMetrics": current},
        })
    }

    fn cpu_util(pct: i64) -> Value {
        json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": pct}}})
    }

    #[test]
    fn hpa_row_with_cpu_target() {
        let h = hpa_v2(
            json!([cpu_util(80)]),
            json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 45, "averageValue": "90m"}}}]),
        );
        assert_eq!(
            row("autoscaling", "horizontalpodautoscalers", &h, now()),
            vec![
                json!("web"),
                json!("Deployment/web"),
                json!("cpu: 45%/80%"),
                json!("1"),
                json!(10),
                json!(3),
                json!("3h")
            ]
        );
    }

    #[test]
    fn hpa_targets_for_each_metric_type() {
        let h = hpa_v2(
            json!([
                cpu_util(80),
                {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "1Gi"}}},
            ]),
            json!([]),
        );
        assert_eq!(
            cell("autoscaling", "horizontalpodautoscalers", &h, "Targets"),
            "cpu: <unknown>/80%, memory: <unknown>/1Gi"
        );
        let h = hpa_v2(
            json!([
                {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "1k"}}},
                {"type": "External", "external": {"metric": {"name": "q"}, "target": {"type": "AverageValue", "averageValue": "30"}}},
                {"type": "Object", "object": {"metric": {"name": "rps"}, "describedObject": {"kind": "Ingress", "name": "i"},
                    "target": {"type": "Value", "value": "2k"}}},
            ]),
            json!([
                {"type": "Pods", "pods": {"metric": {"name": "qps"}, "current": {"averageValue": "900"}}},
                {"type": "External", "external": {"metric": {"name": "q"}, "current": {"averageValue": "12"}}},
            ]),
        );
        assert_eq!(
            cell("autoscaling", "horizontalpodautoscalers", &h, "Targets"),
            "900/1k, 12/30 (avg) + 1 more..."
        );
        let none = hpa_v2(json!([]), json!([]));
        assert_eq!(
            cell("autoscaling", "horizontalpodautoscalers", &none, "Targets"),
            "<none>"
        );
        let container = hpa_v2(
            json!([{"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app",
                "target": {"type": "Utilization"}}}]),
            json!([]),
        );
        assert_eq!(
            cell(
                "autoscaling",
                "horizontalpodautoscalers",
                &container,
                "Targets"
            ),
            "cpu: <unknown>/<auto>"
        );
    }

    #[test]
    fn hpa_v1_object_prints_like_v2() {
        let v1 = json!({
            "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "creationTimestamp": ago(60)},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 5,
                     "targetCPUUtilizationPercentage": 50},
            "status": {"currentReplicas": 2, "desiredReplicas": 2, "currentCPUUtilizationPercentage": 20},
        });
        assert_eq!(
            row("autoscaling", "horizontalpodautoscalers", &v1, now()),
            vec![
                json!("web"),
                json!("Deployment/web"),
                json!("cpu: 20%/50%"),
                json!("<unset>"),
                json!(5),
                json!(2),
                json!("60s")
            ]
        );
    }

    #[test]
    fn hpa_without_api_version_is_read_by_shape() {
        let v1 = json!({"metadata": {"name": "h"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "d"},
            "maxReplicas": 2, "targetCPUUtilizationPercentage": 70}});
        assert_eq!(
            cell("autoscaling", "horizontalpodautoscalers", &v1, "Targets"),
            "cpu: <unknown>/70%"
        );
        let v2 = json!({"metadata": {"name": "h"}, "spec": {"maxReplicas": 2}});
        assert_eq!(
            cell("autoscaling", "horizontalpodautoscalers", &v2, "Targets"),
            "<none>"
        );
    }

    #[test]
    fn quantities_print_canonically() {
        assert_eq!(quantity(Some(&json!("1024Mi"))), "1Gi");
        assert_eq!(quantity(Some(&json!("1000m"))), "1");
        assert_eq!(quantity(Some(&json!("500m"))), "500m");
        assert_eq!(quantity(Some(&json!(2))), "2");
        assert_eq!(quantity(None), "0");
        assert_eq!(quantity(Some(&json!("lots"))), "lots");
    }
}
