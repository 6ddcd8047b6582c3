//! kube-controller-manager: will run the control loops (ReplicaSet, Deployment, Node lifecycle,
//! garbage collector, ...) as a leader-elected client of the apiserver. Not built yet.

fn main() {
    eprintln!("kube-controller-manager: not implemented yet; it will run the control loops against the apiserver");
    std::process::exit(1);
}
