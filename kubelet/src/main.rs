//! kubelet: will run pods in containerd over CRI, with static pods from
//! /etc/kubernetes/manifests and logs/exec/port-forward on 10250. Not built yet.

fn main() {
    eprintln!("kubelet: not implemented yet; it will run pods in containerd over CRI");
    std::process::exit(1);
}
