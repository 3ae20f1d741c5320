fn main() {
    println!("aleph {}", env!("CARGO_PKG_VERSION"));
}
