// `hystrix-resilience/observe` outside Node: its handlers serve node:http requests.
throw new Error('"hystrix-resilience/observe" runs on Node only (it serves node:http requests); in a browser, open the dashboard page served by your backend');
