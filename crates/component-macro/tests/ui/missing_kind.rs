use weld_component_macro::ComponentType;

#[derive(ComponentType)]
enum Color {
    Red,
    Green,
}

fn main() {}
