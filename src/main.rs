fn main() -> std::process::ExitCode {
    torch_to_the_metal::main_entry()
}
