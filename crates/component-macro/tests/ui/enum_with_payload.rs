use weld_component_macro::ComponentType;

#[derive(ComponentType)]
#[component(enum)]
enum Color {
    Red,
    Custom(u32),
}

fn main() {}
