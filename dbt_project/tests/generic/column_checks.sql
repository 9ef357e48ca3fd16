{#-
    A model's column checks in one test that reads its rows once: columns that hold no NULL (`not_null`),
    columns whose non-null values lie in a range (`ranges`: column -> {min_value, max_value}, either bound
    optional; dbt_utils' accepted_range), and columns whose non-null values are one of a list
    (`accepted_values`: column -> list; strings are quoted, numbers not; dbt's accepted_values).

    One test per model instead of one dbt test per column and check: a dbt test node costs some 40-80 ms
    of dbt's own work however little it reads (compiling, asking macros/tests_window.sql for the rows to
    read, logging), and a night ran about 160 such checks; here each is one count in the same scan.
    A failure returns one row per failing check: the column, the check and how many rows break it.
-#}
{% test column_checks(model, not_null=[], ranges={}, accepted_values={}) %}

    {%- set checks = [] %}
    {%- for column in not_null %}
        {%- do checks.append((column, 'not null',
            'count(*) - count(' ~ adapter.quote(column) ~ ')')) %}
    {%- endfor %}
    {%- for column, bounds in ranges.items() %}
        {%- set unknown = bounds.keys() | reject('in', ['min_value', 'max_value']) | list %}
        {%- set outside = [] %}
        {%- set inside = [] %}
        {%- if bounds.get('min_value') is not none %}
            {%- do outside.append(adapter.quote(column) ~ ' < ' ~ bounds['min_value']) %}
            {%- do inside.append('>= ' ~ bounds['min_value']) %}
        {%- endif %}
        {%- if bounds.get('max_value') is not none %}
            {%- do outside.append(adapter.quote(column) ~ ' > ' ~ bounds['max_value']) %}
            {%- do inside.append('<= ' ~ bounds['max_value']) %}
        {%- endif %}
        {%- if unknown or not outside %}
            {{ exceptions.raise_compiler_error(
                'column_checks: the range of ' ~ column ~ ' takes min_value and/or max_value, got '
                ~ (unknown or 'no bound') ~ '; write e.g. ' ~ column ~ ': {min_value: 0}') }}
        {%- endif %}
        {%- do checks.append((column, inside | join(' and '),
            'count(case when ' ~ outside | join(' or ') ~ ' then 1 end)')) %}
    {%- endfor %}
    {%- for column, values in accepted_values.items() %}
        {%- if values is string or not values %}
            {{ exceptions.raise_compiler_error(
                'column_checks: the accepted values of ' ~ column ~ ' must be a non-empty list, got ' ~ values) }}
        {%- endif %}
        {%- set literals = [] %}
        {%- for value in values %}
            {%- do literals.append("'" ~ value | replace("'", "''") ~ "'" if value is string else value) %}
        {%- endfor %}
        {%- do checks.append((column, 'one of ' ~ values | join(', '),
            'count(case when ' ~ adapter.quote(column) ~ ' not in (' ~ literals | join(', ') ~ ') then 1 end)')) %}
    {%- endfor %}
    {%- if not checks %}
        {{ exceptions.raise_compiler_error(
            'column_checks: nothing to check; give not_null, ranges or accepted_values') }}
    {%- endif %}

    with

    counted as (

        select
            {%- for column, check, failing in checks %}
            {{ failing }} as {{ adapter.quote('failing_' ~ loop.index) }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ model }}

    )

    {% for column, check, failing in checks %}
    select
        '{{ column }}' as column_name,
        '{{ check | replace("'", "''") }}' as failed_check,
        {{ adapter.quote('failing_' ~ loop.index) }} as failing_rows
    from counted
    where {{ adapter.quote('failing_' ~ loop.index) }} > 0
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

{% endtest %}
