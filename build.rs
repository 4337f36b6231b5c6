//! Compiles the simulated SoapySDR device (sim/kuzetsim.cpp) into the binary, so that
//! `driver=kuzetsim` works on a machine with no radio and no installed SoapySDR module.

fn main() {
    println!("cargo:rerun-if-changed=sim/kuzetsim.cpp");
    println!("cargo:rerun-if-changed=build.rs");
    // Headers and link flags of Debian's libsoapysdr-dev; the soapysdr crate links the
    // library too, but the C++ object needs it resolved after itself on the link line.
    let soapy = match pkg_config::Config::new()
        .atleast_version("0.8")
        .cargo_metadata(false)
        .probe("SoapySDR")
    {
        Ok(lib) => lib,
        Err(e) => {
            println!(
                "cargo:warning=SoapySDR not found through pkg-config ({e}); \
                 install pkg-config and libsoapysdr-dev"
            );
            std::process::exit(1);
        }
    };
    let mut build = cc::Build::new();
    build
        .cpp(true)
        .std("c++17")
        // The simulator must outrun the reader it feeds; `cc` follows the cargo profile,
        // which would leave it unoptimised in a dev build.
        .opt_level(2)
        .warnings(false)
        .file("sim/kuzetsim.cpp");
    for dir in &soapy.include_paths {
        build.include(dir);
    }
    build.compile("kuzetsim");
    for dir in &soapy.link_paths {
        println!("cargo:rustc-link-search=native={}", dir.display());
    }
    println!("cargo:rustc-link-lib=SoapySDR");
}
