weld_component_macro::bindgen!("w" in "/nonexistent/wit/world.wit");

fn main() {}
