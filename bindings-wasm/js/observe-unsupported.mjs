// `hystrix-resilience/observe` outside Node: its handlers serve node:http requests.
throw new Error('"hystrix-resilience/observe" runs on Node only (it serves node:http requests); in a browser, mountDashboard() of "hystrix-resilience/dashboard" shows the page\'s own commands, or open the dashboard page served by your backend');
