//! kubectl: will be our CLI with upstream's verbs, flags and output. Not built yet.

fn main() {
    eprintln!("kubectl: not implemented yet; use upstream kubectl against this apiserver for now");
    std::process::exit(1);
}
