weld_component_macro::flags! {
    Nothing {}
}

fn main() {}
