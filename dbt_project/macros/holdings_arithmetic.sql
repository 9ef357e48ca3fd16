{#-
    The share of an exact total (a price in wei) that falls on units (units_before, units_through] of
    units_total, such that the shares of any split of the units add up to the total exactly:

        floor(total × units_through / units_total) - floor(total × units_before / units_total)

    Used wherever one price covers units that end up on different rows: a mint transaction minting
    several tokens, an ERC-1155 lot sold in parts, a sale consuming parts of several lots. Every share is a
    whole number of wei; no wei is lost or created. NULL when total is NULL.
-#}
{% macro holdings_allocate(total, units_before, units_through, units_total) -%}
    ({{ holdings_mul_div(total, units_through, units_total) }}
    - {{ holdings_mul_div(total, units_before, units_total) }})
{%- endmacro %}


{#-
    floor(a × b / c) for non-negative exact integers (decimal(38, 0)), exact. DuckDB divides decimals in
    floating point, so there the product and the integer division run on HUGEINT (an overflow above 1.7e38
    raises, never rounds); the default is the ANSI form, exact where decimal division is.
-#}
{% macro holdings_mul_div(a, b, c) -%}
    {{ return(adapter.dispatch('holdings_mul_div')(a, b, c)) }}
{%- endmacro %}

{% macro default__holdings_mul_div(a, b, c) -%}
    cast(floor(({{ a }}) * ({{ b }}) / ({{ c }})) as {{ wei_type() }})
{%- endmacro %}

{% macro duckdb__holdings_mul_div(a, b, c) -%}
    cast(
        cast({{ a }} as hugeint) * cast({{ b }} as hugeint) // cast({{ c }} as hugeint)
        as {{ wei_type() }}
    )
{%- endmacro %}


{#-
    Days from one timestamp to another, fractional (seconds / 86,400), from block times: a token bought
    and sold in the same block is held 0 days.
-#}
{% macro holdings_days_between(start_timestamp, end_timestamp) -%}
    ({{ dbt.datediff(start_timestamp, end_timestamp, 'second') }} / 86400.0)
{%- endmacro %}


{#-
    A 64-bit floating-point type, for means and shares. Not dbt.type_float(): on DuckDB it renders FLOAT,
    a 32-bit REAL whose 24-bit mantissa blurs a mean of wei amounts from the eighth digit on.
-#}
{% macro holdings_type_double() -%}
    double precision
{%- endmacro %}
