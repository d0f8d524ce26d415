weld_component_macro::bindgen!({
    inline: "
        package a:b;
        interface host { f: func(); }
        world w { import host; }
    ",
    with: { "a:b/guest": crate::elsewhere },
});

fn main() {}
