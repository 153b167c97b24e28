/// Counts memory while a user's template renders (`alloc_budget`).
#[global_allocator]
static ALLOC: torch_to_the_metal::alloc_budget::Counting =
    torch_to_the_metal::alloc_budget::Counting;

fn main() -> std::process::ExitCode {
    torch_to_the_metal::main_entry()
}
