//! kube-scheduler: will place pods on nodes through a plugin framework (PreFilter, Filter,
//! Score, Reserve, Bind) as a leader-elected client of the apiserver. Not built yet.

fn main() {
    eprintln!(
        "kube-scheduler: not implemented yet; it will bind pods to nodes through the apiserver"
    );
    std::process::exit(1);
}
