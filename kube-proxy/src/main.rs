//! kube-proxy: will program Services into iptables (default), nftables or IPVS. Not built yet.

fn main() {
    eprintln!(
        "kube-proxy: not implemented yet; it will program Services into iptables, nftables or IPVS"
    );
    std::process::exit(1);
}
