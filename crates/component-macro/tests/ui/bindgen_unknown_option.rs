weld_component_macro::bindgen!({
    inline: "package a:b; world w {}",
    unknown_thing: true,
});

fn main() {}
