//! The kubelet binary (placeholder until the node agent lands): says it is not implemented.

fn main() {
    eprintln!("kubelet: not implemented yet");
    std::process::exit(1);
}
